# Pollux: one GNU Makefile for both architectures, the image, QEMU runs and the tests.
#
#   make                 build build/x86_64/BOOTX64.EFI and build/aarch64/BOOTAA64.EFI
#   make image           build/pollux.img: a GPT disk whose ESP holds both loaders
#   make SITE=dir        pack the directory dir as the HTTP service's site (default: the config's POLLUX_SITE)
#   make run [ARCH=aarch64] [CORES=4] [MEM=2G] [NET=user|tap] [QUEUES=n] [NIC=virtio|igb]   boot in QEMU
#   make ami [BUCKET=b] [REGION=r]   check build/pollux.img, import it, register arm64 + x86_64 AMIs
#                        (without AWS credentials: print the commands)
#   make test            every test, ends with "N passed, N failed"
#   make fuzz [FUZZ_TIME=60]   each libFuzzer target for FUZZ_TIME seconds (0: the seeds only)
#   make bench           Pollux against a Linux guest, tuned for throughput and for latency, under the
#                        same QEMU (scripts/bench/bench.py)
#   make bench-readme [BENCH_RESULTS=dir]   README's bench table made again from a run's results.tsv
#   make deps            Debian packages and sources (run implicitly)
#   V=1                  show commands

ARCH ?= x86_64
CORES ?= 4
MEM ?= 2G
O ?= build
CONFIG ?= config/default.h
TEST_COMMANDS ?= 0

ifeq ($(V),1)
Q :=
else
Q := @
endif

ifeq ($(ARCH),x86_64)
CROSS :=
EFI_NAME := BOOTX64.EFI
ARCH_CFLAGS := -mno-red-zone -mgeneral-regs-only -maccumulate-outgoing-args -mcmodel=small
EFI_CFLAGS := -DGNU_EFI_USE_MS_ABI
OBJCOPY_FMT := --target efi-app-x86_64
LD_EXTRA :=
else ifeq ($(ARCH),aarch64)
CROSS := aarch64-linux-gnu-
EFI_NAME := BOOTAA64.EFI
ARCH_CFLAGS := -mgeneral-regs-only -mstrict-align -mno-outline-atomics
EFI_CFLAGS :=
# gnu-efi's AArch64 crt0 carries its own PE/COFF header; objcopy only flattens the image.
OBJCOPY_FMT := -O binary
# binutils 2.40 warns about gnu-efi's single RWX load segment; our own tables enforce W^X.
LD_EXTRA := --defsym=EFI_SUBSYSTEM=0xa --no-warn-rwx-segments
else
$(error ARCH must be x86_64 or aarch64, not '$(ARCH)')
endif

CC := $(CROSS)gcc
LD := $(CROSS)ld
OBJCOPY := $(CROSS)objcopy
NM := $(CROSS)nm
READELF := $(CROSS)readelf
HOSTCC := gcc

B := $(O)/$(ARCH)
# Dependencies are shared by every build variant (O=build/test too).
DEPS := build/deps
DEPS_STAMP := $(DEPS)/.ready
GNUEFI := $(DEPS)/$(ARCH)/gnu-efi
NEWLIB := $(DEPS)/$(ARCH)/newlib
GCC_INC := $(shell $(CC) -print-file-name=include 2>/dev/null)
LIBGCC := $(shell $(CC) -print-libgcc-file-name 2>/dev/null)

# Sources, listed explicitly. arch/$(ARCH) is chosen by path, not by #ifdef.
BOOT_SRCS := boot/efimap.c boot/layers.c
EFI_SRCS := boot/efi_main.c
KERNEL_SRCS := kernel/main.c kernel/acpi.c kernel/pagetable.c kernel/mem.c kernel/mempool.c \
	kernel/printf.c kernel/console.c kernel/conbuf.c kernel/cmdline.c kernel/cpu.c kernel/prof.c kernel/time.c kernel/random.c \
	kernel/watchdog.c kernel/string.c
DRIVER_SRCS := drivers/drivers.c drivers/uart.c drivers/pci.c drivers/virtq.c drivers/nic.c drivers/virtio_net.c drivers/virtio_pci.c drivers/virtio_rng.c drivers/ena.c \
	drivers/intel_adv.c drivers/igb.c drivers/ixgbe.c
ARCH_SRCS := arch/$(ARCH)/cpu.c arch/$(ARCH)/pte.c
ARCH_ASM := arch/$(ARCH)/entry.S
C_SRCS := $(BOOT_SRCS) $(KERNEL_SRCS) $(DRIVER_SRCS) $(ARCH_SRCS)

# lwIP: Debian's source, never edited; the file list comes from its own Filelists.mk.
LWIPDIR := build/deps/lwip/src
-include $(LWIPDIR)/Filelists.mk
# On a fresh checkout the file list does not exist yet: getting the dependencies creates it,
# and make then re-reads this Makefile with it.
$(LWIPDIR)/Filelists.mk: | $(DEPS_STAMP)
	@test -f $@ || { echo "deps: lwIP source missing ($@)"; exit 1; }
# lwIP's DHCPv6 client is stateless only: net/dhcp6.c is Pollux's own (net/port/lwipopts.h).
LWIP_SRCS := $(filter-out %/dhcp6.c,$(COREFILES) $(CORE4FILES) $(CORE6FILES)) $(LWIPDIR)/netif/ethernet.c
LWIP_INC := -Inet/port -I$(LWIPDIR)/include
# One lwIP instance per core: core N runs copy N (scripts/lwip-instances.sh renames its globals).
# A setting of the config header, as the preprocessor expands it.
config_value = $(shell echo $(1) | $(HOSTCC) -E -P -include $(CONFIG) - 2>/dev/null | tail -n1)
NINST := $(call config_value,POLLUX_MAX_CORES)
INST_OBJS := $(shell seq -f '$(B)/net/insts/inst%g.o' 0 $$(($(NINST) - 1)) 2>/dev/null) $(B)/net/insts/insts.o
# Services are linked once and never see lwIP (net/service.h); POLLUX_SERVICE picks the one that runs.
SVC_SRCS := net/svc_http.c net/svc_echo.c net/http.c net/site.c
NET_SRCS := net/lwip_port.c net/net.c net/spsc.c net/flow.c net/slab.c net/svc_metrics.c $(SVC_SRCS)

# The site (scripts/site.py): SITE, else the config's POLLUX_SITE, packed into $(B)/site.bin and
# linked as bytes of the image (net/site_blob.S). The packer runs every time and packs again only
# when the tree's names, sizes or times changed (file names cannot all be make prerequisites).
SITE ?= $(patsubst "%",%,$(call config_value,POLLUX_SITE))
SITE_MAX_MB := $(call config_value,POLLUX_SITE_MAX_FILE_MB)
$(B)/site.bin: FORCE
	@mkdir -p $(dir $@)
	$(Q)python3 scripts/site.py --max-file-mb $(SITE_MAX_MB) $(SITE) $@
$(B)/net/site_blob.o: net/site_blob.S $(B)/site.bin
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) -D__ASSEMBLY__ -DSITE_BIN='"$(B)/site.bin"' -c $< -o $@

# /metrics' build info: the git version and commit, rewritten only when they change.
$(B)/build_info.h: FORCE
	@mkdir -p $(dir $@)
	$(Q)v=$$(git describe --always --dirty 2>/dev/null || echo unknown); c=$$(git rev-parse --short=12 HEAD 2>/dev/null || \
		echo unknown); printf '#define POLLUX_VERSION "%s"\n#define POLLUX_COMMIT "%s"\n' "$$v" "$$c" >$@.tmp; \
		if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi
$(B)/net/svc_metrics.o: net/svc_metrics.c $(B)/build_info.h
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -DPOLLUX_BUILD_INFO='"$(B)/build_info.h"' -c $< -o $@
.PHONY: FORCE
FORCE:

OBJS := $(C_SRCS:%.c=$(B)/%.o) $(ARCH_ASM:%.S=$(B)/%.o) $(EFI_SRCS:%.c=$(B)/%.o) $(NET_SRCS:%.c=$(B)/%.o) \
	$(INST_OBJS) $(B)/net/site_blob.o

# The stack protector reads one global canary (__stack_chk_guard, kernel/main.c, random per boot):
# x86-64's default, %fs:0x28, needs thread-local storage a freestanding kernel does not have.
COMMON_CFLAGS := -std=c11 -Wall -Wextra -Werror -O2 -g -ffreestanding -fno-builtin-printf \
	-fstack-protector-strong -mstack-protector-guard=global -fno-stack-check -fpic -fshort-wchar -fno-strict-aliasing \
	-fno-omit-frame-pointer -fno-merge-all-constants -nostdinc -isystem $(GCC_INC) \
	-MMD -MP $(ARCH_CFLAGS) -DPOLLUX_CONFIG_FILE='"$(CONFIG)"' -DPOLLUX_TEST_COMMANDS=$(TEST_COMMANDS)
KCFLAGS := $(COMMON_CFLAGS) -I. -Ikernel -Iarch/$(ARCH) -isystem $(NEWLIB)/include
EFICFLAGS := $(COMMON_CFLAGS) $(EFI_CFLAGS) -I$(GNUEFI)/inc -I$(GNUEFI)/inc/$(ARCH) -I$(GNUEFI)/inc/protocol \
	-Iarch/$(ARCH)
# arch/$(ARCH)/image.lds is GNU-EFI's layout with constant data on pages of its own (mapped read-only).
LDS := arch/$(ARCH)/image.lds
LDFLAGS := -nostdlib --no-undefined --warn-common -znocombreloc -z noexecstack -shared -Bsymbolic --build-id=sha1 \
	-T $(LDS) $(LD_EXTRA)

.PHONY: all deps image ami run test unit qemu-test bench bench-readme prof clean distclean both
.DEFAULT_GOAL := all

all: $(DEPS_STAMP)
	$(Q)$(MAKE) --no-print-directory ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory ARCH=aarch64 efi

deps: $(DEPS_STAMP)
# The lwIP patch series is part of the dependencies: a change unpacks lwIP again and patches it.
LWIP_PATCHES := net/port/patches/series $(wildcard net/port/patches/*.patch)
$(DEPS_STAMP): scripts/deps.sh $(LWIP_PATCHES)
	$(Q)scripts/deps.sh build
	$(Q)touch $@

.PHONY: efi
efi: $(B)/$(EFI_NAME)

$(B)/$(EFI_NAME): $(B)/pollux.so
	@echo "  EFI     $@"
	$(Q)$(OBJCOPY) -j .text -j .rodata -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
		-j .rel.* -j .rela.* -j .reloc $(OBJCOPY_FMT) $< $@

# gnu-efi's libefi, with its byte-at-a-time memcpy and memset weakened: kernel/string.c's are the
# image's (libefi's init.o, which InitializeLib pulls in, would otherwise win over newlib's and ours).
LIBEFI := $(firstword $(wildcard $(GNUEFI)/lib/libefi.a) /usr/lib/libefi.a)
$(B)/libefi.a: $(LIBEFI) $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(OBJCOPY) --weaken-symbol=memcpy --weaken-symbol=memset $(LIBEFI) $@

$(B)/pollux.so: $(OBJS) $(B)/libefi.a $(LDS) scripts/check-image.py
	@echo "  LD      $@"
	$(Q)$(LD) $(LDFLAGS) $(GNUEFI)/lib/crt0-efi-$(ARCH).o $(OBJS) -o $@.tmp \
		$(B)/libefi.a -L$(GNUEFI)/lib -lgnuefi $(NEWLIB)/lib/libc.a $(LIBGCC)
	$(Q)python3 scripts/check-image.py $(NM) $(READELF) $@.tmp
	$(Q)mv $@.tmp $@

$(B)/boot/efi_main.o: boot/efi_main.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(EFICFLAGS) -c $< -o $@

# lwIP is not ours: its own warnings are not errors here.
LWIP_OBJS := $(LWIP_SRCS:$(LWIPDIR)/%.c=$(B)/net/lwip/%.o)
$(B)/net/lwip/%.o: $(LWIPDIR)/%.c net/port/lwipopts.h net/tcp_cubic.h net/port/arch/cc.h Makefile $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(filter-out -Werror -Wextra,$(KCFLAGS)) $(LWIP_INC) -c $< -o $@
INST_GLUE := inst inst_svc inst_hash inst_mcast dhcp6 inst_dhcp6 inst_cc tcp_cubic inst_tso
$(INST_GLUE:%=$(B)/net/%.o): $(B)/net/%.o: net/%.c net/inst.h net/inst_priv.h net/dhcp6.h net/service.h net/port/lwipopts.h net/port/arch/cc.h net/tcp_cubic.h Makefile \
		$(DEPS_STAMP)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) $(LWIP_INC) -c $< -o $@
$(B)/net/lwip_port.o: net/lwip_port.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) $(LWIP_INC) -c $< -o $@
$(B)/net/insts/insts.c: $(LWIP_OBJS) $(INST_GLUE:%=$(B)/net/%.o) scripts/lwip-instances.sh
	@echo "  INST    $(NINST) lwIP instances"
	$(Q)$(LD) -r $(LWIP_OBJS) $(INST_GLUE:%=$(B)/net/%.o) -o $(B)/net/inst_all.o
	$(Q)scripts/lwip-instances.sh $(CROSS)nm $(OBJCOPY) $(B)/net/inst_all.o $(NINST) $(B)/net/insts
$(filter-out %/insts.o,$(INST_OBJS)): $(B)/net/insts/insts.c
$(B)/net/insts/insts.o: $(B)/net/insts/insts.c
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) -c $< -o $@

$(B)/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KCFLAGS) -D__ASSEMBLY__ -c $< -o $@

# Flags live in this Makefile and settings in the config header: a change to either rebuilds.
$(OBJS): Makefile $(CONFIG)

IMAGE := $(O)/pollux.img
image: $(IMAGE)
$(IMAGE): all scripts/mkimage.sh
	@echo "  IMAGE   $@"
	$(Q)scripts/mkimage.sh $@ $(O)/x86_64/BOOTX64.EFI $(O)/aarch64/BOOTAA64.EFI

# EC2: scripts/ami.sh checks the image, then imports and registers it (or prints how).
ami: image
	$(Q)BUCKET=$(BUCKET) REGION=$(REGION) scripts/ami.sh $(IMAGE)

# QEMU: TCG (no KVM here), serial on this terminal. NET=user (default) forwards host ports
# 8080 -> 80 and 8007 -> 7; NET=tap uses an existing tap device TAP with QUEUES queue pairs.
NET ?= user
QUEUES ?= $(CORES)
NIC ?= virtio
run: image
	$(Q)NET=$(NET) QUEUES=$(QUEUES) TAP=$(TAP) NIC=$(NIC) scripts/qemu.sh $(ARCH) $(IMAGE) $(CORES) $(MEM)

# Host unit tests: pure code, compiled for the build machine.
UNIT_TESTS := test_efimap test_acpi test_pagetable test_mem test_printf test_console test_conbuf test_spsc test_http test_site test_pci test_virtq \
	test_flow test_ena test_random test_net test_vnet test_vrng test_ixgbe test_igb test_slab test_tcphash test_dhcp6 test_cubic \
	test_watchdog
UNIT_CFLAGS := -std=c11 -Wall -Wextra -Werror -O1 -g -fno-omit-frame-pointer \
	-DPOLLUX_CONFIG_FILE='"config/default.h"' -I. -Ikernel -Itests/unit/host
UNIT_DIR := $(O)/unit
# Host builds that link the HTTP service carry the test site (tests/unit/site), packed as the image's.
UNIT_SITE := $(UNIT_DIR)/site.bin
UNIT_CFLAGS += -DSITE_BIN='"$(UNIT_SITE)"'
$(UNIT_SITE): FORCE
	@mkdir -p $(dir $@)
	$(Q)python3 scripts/site.py tests/unit/site $@
SITE_OBJ_SRCS := net/site_blob.S $(UNIT_SITE)
# test_http proves the parser and the config routes: the bench config's "/" pattern and a site
# with no files (so its 404 is the built-in one); test_site proves the site over tests/unit/site.
$(UNIT_DIR)/site-empty.bin: scripts/site.py
	@mkdir -p $(UNIT_DIR)/site-empty
	$(Q)python3 scripts/site.py $(UNIT_DIR)/site-empty $@
# Shared scaffolding: the fork-per-case runner, console capture and allocation stubs; the fake ECAM.
HARNESS_SRCS := tests/unit/host/harness.c tests/unit/host/harness.h
FAKEPCI_SRCS := tests/unit/host/fakepci.c tests/unit/host/fakepci.h
test_efimap_SRCS := boot/efimap.c
test_acpi_SRCS := kernel/acpi.c drivers/uart.c
test_pagetable_SRCS := kernel/pagetable.c arch/x86_64/pte.c arch/aarch64/pte.c
test_mem_SRCS := kernel/mempool.c
test_printf_SRCS := kernel/printf.c
test_console_SRCS := kernel/cmdline.c
test_watchdog_SRCS := kernel/watchdog.c
test_conbuf_SRCS := kernel/conbuf.c kernel/printf.c
test_spsc_SRCS := net/spsc.c
test_http_SRCS := net/http.c net/site.c net/site_blob.S $(UNIT_DIR)/site-empty.bin
test_http_CFLAGS := -UPOLLUX_CONFIG_FILE -DPOLLUX_CONFIG_FILE='"config/bench64.h"' -USITE_BIN \
	-DSITE_BIN='"$(UNIT_DIR)/site-empty.bin"'
test_site_SRCS := net/http.c net/site.c $(SITE_OBJ_SRCS)
test_pci_SRCS := drivers/pci.c kernel/printf.c $(HARNESS_SRCS) $(FAKEPCI_SRCS)
test_virtq_SRCS := drivers/virtq.c
test_flow_SRCS := net/flow.c
test_dhcp6_SRCS := net/dhcp6.c net/dhcp6.h
test_slab_SRCS := net/slab.c net/slab.h
test_cubic_SRCS := net/tcp_cubic.c net/tcp_cubic.h
test_tcphash_SRCS := net/inst_hash.c tests/unit/host/lwip_port.c $(LWIP_PATCHES)
test_tcphash_CFLAGS := $(LWIP_INC)
# nic.c's probe table names every driver: the Intel ones are linked into the tests that probe
# with real drivers; test_ixgbe and test_net stand in for the others with drivers serving no ID.
INTEL_SRCS := drivers/intel_adv.c drivers/igb.c drivers/ixgbe.c
test_ixgbe_SRCS := drivers/nic.c $(INTEL_SRCS) tests/unit/host/drvhost.c tests/unit/host/drvhost.h tests/unit/ixgbe_model.c tests/unit/ixgbe_model.h tests/unit/host/csum.h tests/unit/host/tso.h tests/unit/iadv_model_tx.h tests/unit/host/tso_frames.h
test_igb_SRCS := drivers/nic.c $(INTEL_SRCS) tests/unit/host/drvhost.c tests/unit/host/drvhost.h tests/unit/igb_model.c tests/unit/igb_model.h tests/unit/host/csum.h tests/unit/host/tso.h tests/unit/iadv_model_tx.h tests/unit/host/tso_frames.h
test_ena_SRCS := drivers/ena.c drivers/nic.c drivers/virtio_net.c drivers/virtio_pci.c drivers/virtq.c drivers/pci.c kernel/printf.c net/flow.c \
	tests/unit/ena_model.c tests/unit/ena_model.h $(HARNESS_SRCS) $(FAKEPCI_SRCS) tests/unit/host/csum.h \
	$(INTEL_SRCS)
test_random_SRCS := kernel/random.c net/lwip_port.c
test_random_CFLAGS := $(LWIP_INC)
# net/net.c on a fake NIC (the test defines the driver, the lwIP instances and the service).
test_net_SRCS := net/net.c net/flow.c net/spsc.c drivers/nic.c kernel/printf.c kernel/prof.c $(HARNESS_SRCS)
$(UNIT_DIR)/test_net: net/net.h net/inst.h net/flow.h net/spsc.h net/service.h drivers/nic.h drivers/pci.h
test_vnet_SRCS := drivers/virtio_net.c drivers/virtio_pci.c drivers/nic.c drivers/ena.c drivers/virtq.c drivers/pci.c kernel/printf.c net/flow.c \
	tests/unit/vnet_model.c tests/unit/vnet_model.h $(HARNESS_SRCS) $(FAKEPCI_SRCS) tests/unit/host/csum.h tests/unit/host/tso.h \
	$(INTEL_SRCS)

test_vrng_SRCS := drivers/virtio_rng.c drivers/virtio_pci.c drivers/virtq.c drivers/pci.c kernel/printf.c \
	$(HARNESS_SRCS) $(FAKEPCI_SRCS)

define unit_rule
$(UNIT_DIR)/$(1): tests/unit/$(1).c $$($(1)_SRCS) tests/unit/test.h tests/unit/host/stubs.c kernel/kernel.h kernel/prof.h \
		tests/unit/host/arch_inline.h
	@mkdir -p $(UNIT_DIR)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $$($(1)_CFLAGS) -Wno-format-truncation $$(filter %.c %.S,$$^) -o $$@ -pthread
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

# Host copy of one instance (lwIP + its glue), made twice by scripts/lwip-instances.sh; the tests
# link the services once, as the kernel does.
UNIT_LWIP_OBJS := $(LWIP_SRCS:$(LWIPDIR)/%.c=$(UNIT_DIR)/lwip/%.o) $(INST_GLUE:%=$(UNIT_DIR)/lwip/%.o)
$(UNIT_DIR)/lwip/%.o: $(LWIPDIR)/%.c net/port/lwipopts.h net/tcp_cubic.h net/port/arch/cc.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -std=gnu11 -O1 -g -Wall -Wno-address $(LWIP_INC) -c $< -o $@
$(INST_GLUE:%=$(UNIT_DIR)/lwip/%.o): $(UNIT_DIR)/lwip/%.o: net/%.c net/inst.h net/inst_priv.h net/dhcp6.h net/service.h net/port/lwipopts.h net/port/arch/cc.h net/tcp_cubic.h \
		$(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(LWIP_INC) -c $< -o $@
$(UNIT_DIR)/lwip/inst_all.o: $(UNIT_LWIP_OBJS)
	$(Q)ld -r $(UNIT_LWIP_OBJS) -o $@
$(UNIT_DIR)/lwip/insts/inst0.o: $(UNIT_DIR)/lwip/inst_all.o scripts/lwip-instances.sh
	$(Q)scripts/lwip-instances.sh nm objcopy $< 2 $(UNIT_DIR)/lwip/insts
UNIT_INSTS := $(UNIT_DIR)/lwip/insts/inst0.o $(UNIT_DIR)/lwip/insts/inst1.o
$(UNIT_DIR)/lwip/insts/inst1.o: $(UNIT_DIR)/lwip/insts/inst0.o
# Five copies for test_ena_http: lwip_insts[] (insts.c) names the first 4, the cores net/net.c
# runs; the fifth is the test's client on the device model's wire.
$(UNIT_DIR)/lwip/insts5/inst0.o: $(UNIT_DIR)/lwip/inst_all.o scripts/lwip-instances.sh
	$(Q)scripts/lwip-instances.sh nm objcopy $< 5 $(UNIT_DIR)/lwip/insts5 4
UNIT_INSTS5 := $(foreach i,0 1 2 3 4,$(UNIT_DIR)/lwip/insts5/inst$(i).o)
$(filter-out %/inst0.o,$(UNIT_INSTS5)) $(UNIT_DIR)/lwip/insts5/insts.c: $(UNIT_DIR)/lwip/insts5/inst0.o
test_lwip_inst_SRCS := net/svc_echo.c net/slab.c tests/unit/host/tso.h
test_svc_SRCS := $(SVC_SRCS) net/slab.c net/site_blob.S
define unit_lwip_rule
$(UNIT_DIR)/$(1): tests/unit/$(1).c $$($(1)_SRCS) $(UNIT_INSTS) tests/unit/test.h tests/unit/host/stubs.c \
		tests/unit/host/lwip_port.c net/service.h $(UNIT_SITE)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(LWIP_INC) tests/unit/$(1).c $$($(1)_SRCS) tests/unit/host/stubs.c \
		tests/unit/host/lwip_port.c $(UNIT_INSTS) -o $$@
endef
prof_conns_SRCS := $(SVC_SRCS) net/slab.c net/site_blob.S
test_dhcp6_inst_SRCS := net/slab.c
$(foreach t,test_lwip_inst test_svc prof_conns test_dhcp6_inst,$(eval $(call unit_lwip_rule,$(t))))
# test_svc_asan: test_svc again with AddressSanitizer in lwIP and its glue too. Each frame the test
# hands in is a block of its own size, taken without a copy, so a read past a segment or a fragment
# (a pbuf chain after reassembly) stops the test where it happens.
UNIT_ASAN := -fsanitize=address -fno-sanitize-recover=all
UNIT_ALWIP_OBJS := $(UNIT_LWIP_OBJS:$(UNIT_DIR)/lwip/%=$(UNIT_DIR)/lwip-asan/%)
$(UNIT_DIR)/lwip-asan/%.o: $(LWIPDIR)/%.c net/port/lwipopts.h net/tcp_cubic.h net/port/arch/cc.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) -std=gnu11 -O1 -g -Wall -Wno-address $(UNIT_ASAN) $(LWIP_INC) -c $< -o $@
$(INST_GLUE:%=$(UNIT_DIR)/lwip-asan/%.o): $(UNIT_DIR)/lwip-asan/%.o: net/%.c net/inst.h net/inst_priv.h net/dhcp6.h net/service.h \
		net/port/lwipopts.h net/port/arch/cc.h net/tcp_cubic.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(UNIT_ASAN) $(LWIP_INC) -c $< -o $@
$(UNIT_DIR)/lwip-asan/inst_all.o: $(UNIT_ALWIP_OBJS)
	$(Q)ld -r $(UNIT_ALWIP_OBJS) -o $@
$(UNIT_DIR)/lwip-asan/insts/inst0.o: $(UNIT_DIR)/lwip-asan/inst_all.o scripts/lwip-instances.sh
	$(Q)scripts/lwip-instances.sh nm objcopy $< 2 $(UNIT_DIR)/lwip-asan/insts
UNIT_AINSTS := $(UNIT_DIR)/lwip-asan/insts/inst0.o $(UNIT_DIR)/lwip-asan/insts/inst1.o
$(UNIT_DIR)/lwip-asan/insts/inst1.o: $(UNIT_DIR)/lwip-asan/insts/inst0.o
$(UNIT_DIR)/test_svc_asan: tests/unit/test_svc.c $(test_svc_SRCS) $(UNIT_AINSTS) tests/unit/test.h \
		tests/unit/host/stubs.c tests/unit/host/lwip_port.c net/service.h $(UNIT_SITE)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(UNIT_ASAN) $(LWIP_INC) tests/unit/test_svc.c $(test_svc_SRCS) \
		tests/unit/host/stubs.c tests/unit/host/lwip_port.c $(UNIT_AINSTS) -o $@
# test_svc_tso: test_svc again (with AddressSanitizer) with the server on a NIC with checksum and
# segmentation offload: its echo by reference in segments of several MSS (lwIP patch 0022), cut by
# the test's wire, through every loss, SACK and path-MTU scenario.
$(UNIT_DIR)/test_svc_tso: tests/unit/test_svc.c $(test_svc_SRCS) $(UNIT_AINSTS) tests/unit/test.h tests/unit/host/tso.h \
		tests/unit/host/stubs.c tests/unit/host/lwip_port.c net/service.h $(UNIT_SITE)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) $(UNIT_ASAN) -DSVC_TSO=1 $(LWIP_INC) tests/unit/test_svc.c $(test_svc_SRCS) \
		tests/unit/host/stubs.c tests/unit/host/lwip_port.c $(UNIT_AINSTS) -o $@
# What one core spends on its timers and per request with 1,000 and with 20,000 connections open
# (host build, an in-memory wire): issue 18's profile. Not part of make test: it measures.
prof: $(UNIT_DIR)/prof_conns
	$(Q)$(UNIT_DIR)/prof_conns 1000 && $(UNIT_DIR)/prof_conns 20000
# HTTP end to end: net/net.c, nic.c and a driver against its device model, 4 cores each with a real
# lwIP instance serving svc_http, and a fifth instance as the clients on the model's wire; the
# harness (tests/unit/nic_http.c) is shared, each test supplies its device: test_ena_http the ENA
# model, test_ixgbe_http the 82599's. Each is built twice: bench64's config (64-byte body at "/") and
# bench16k's 16 KiB body (many segments per response, pieces sent in place); only http.c reads the
# body size.
NIC_HTTP_SRCS := kernel/prof.c net/net.c net/flow.c net/spsc.c net/slab.c net/svc_metrics.c $(SVC_SRCS) drivers/nic.c drivers/ena.c drivers/virtio_net.c drivers/virtio_pci.c \
	drivers/virtq.c drivers/pci.c kernel/printf.c tests/unit/nic_http.c tests/unit/nic_http_client.c \
	tests/unit/host/fakepci.c tests/unit/host/harness.c $(INTEL_SRCS) net/site_blob.S
NIC_HTTP_HDRS := tests/unit/test.h tests/unit/host/stubs.c tests/unit/host/lwip_port.c tests/unit/host/harness.h \
	tests/unit/host/csum.h tests/unit/nic_http.h tests/unit/nic_http_client.h kernel/kernel.h net/net.h net/inst.h \
	net/service.h drivers/nic.h $(UNIT_SITE)
test_ena_http_SRCS := tests/unit/ena_model.c tests/unit/ena_model.h
test_ixgbe_http_SRCS := tests/unit/ixgbe_model.c tests/unit/ixgbe_model.h tests/unit/host/tso.h tests/unit/iadv_model_tx.h tests/unit/host/tso_frames.h
# $(1): the binary, $(2): its test (tests/unit/$(2).c with $(2)_SRCS), $(3): the config header.
define nic_http_rule
$(UNIT_DIR)/$(1): tests/unit/$(2).c $(NIC_HTTP_SRCS) $$($(2)_SRCS) $(UNIT_INSTS5) $(UNIT_DIR)/lwip/insts5/insts.c \
		$(NIC_HTTP_HDRS) $(3)
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -UPOLLUX_CONFIG_FILE -DPOLLUX_CONFIG_FILE='"$(3)"' $(LWIP_INC) \
		-Wno-format-truncation tests/unit/$(2).c $(NIC_HTTP_SRCS) $$(filter %.c,$$($(2)_SRCS)) \
		$(UNIT_DIR)/lwip/insts5/insts.c tests/unit/host/stubs.c tests/unit/host/lwip_port.c $(UNIT_INSTS5) \
		-Wl,--wrap=nic_rx_burst,--wrap=nic_rx_return -o $$@
endef
$(eval $(call nic_http_rule,test_ena_http,test_ena_http,config/bench64.h))
$(eval $(call nic_http_rule,test_ena_http16k,test_ena_http,config/bench16k.h))
$(eval $(call nic_http_rule,test_ixgbe_http,test_ixgbe_http,config/bench64.h))
$(eval $(call nic_http_rule,test_ixgbe_http16k,test_ixgbe_http,config/bench16k.h))

# kernel/string.c twice, as the kernel builds it (-O2), under other names: with words read unaligned
# (x86-64), and with words read only where aligned (AArch64: UBSan's alignment check, fatal, stands
# in for the alignment the host does not enforce), each against the host's libc.
$(UNIT_DIR)/string_%.o: kernel/string.c tests/unit/host/arch_inline.h Makefile
	@mkdir -p $(UNIT_DIR)
	$(Q)$(HOSTCC) $(filter-out -O1,$(UNIT_CFLAGS)) -O2 -ffreestanding -DARCH_UNALIGNED_WORDS=$(if $(filter u,$*),1,0) \
		$(if $(filter a,$*),-fsanitize=alignment -fno-sanitize-recover=alignment) -Dmemcpy=$*_memcpy \
		-Dmemmove=$*_memmove -Dmemset=$*_memset -c $< -o $@
$(UNIT_DIR)/test_string: tests/unit/test_string.c tests/unit/test.h $(UNIT_DIR)/string_u.o $(UNIT_DIR)/string_a.o
	$(Q)$(HOSTCC) $(UNIT_CFLAGS) -fsanitize=alignment $(filter %.c %.o,$^) -o $@

unit: $(UNIT_TESTS:%=$(UNIT_DIR)/%) $(UNIT_DIR)/test_string $(UNIT_DIR)/test_lwip_inst $(UNIT_DIR)/test_dhcp6_inst $(UNIT_DIR)/test_svc $(UNIT_DIR)/test_svc_asan $(UNIT_DIR)/test_svc_tso \
	$(UNIT_DIR)/test_ena_http $(UNIT_DIR)/test_ena_http16k $(UNIT_DIR)/test_ixgbe_http $(UNIT_DIR)/test_ixgbe_http16k

# Fuzzing (libFuzzer with AddressSanitizer and UBSan, Debian's clang): the HTTP parser, the virtqueue's
# used ring under a hostile device, the frame classifier, the whole receive path, the drivers' completion
# parsing. `make fuzz` runs each for FUZZ_TIME seconds (0: replay the seeds in tests/fuzz/seeds and the
# inputs of past crashes in tests/fuzz/regress only); the working corpus and any crash stay in build/fuzz.
# fuzz_rx: one frame sequence through the fake NIC, nic.c, net.c, two real lwIP instances and HTTP.
# fuzz_dhcp6: the DHCPv6 client (net/dhcp6.c) fed any messages in each of its states.
# fuzz_vnet_rx, fuzz_ena_rx: the drivers' completion parsing against a hostile device model.
FUZZ_TARGETS := fuzz_http fuzz_virtq fuzz_flow fuzz_rx fuzz_vnet_rx fuzz_ena_rx fuzz_dhcp6
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_DIR := $(O)/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
	-fsanitize=fuzzer $(FUZZ_SAN) \
	-DPOLLUX_CONFIG_FILE='"config/default.h"' -I. -Ikernel -Itests/unit/host
fuzz_http_SRCS := net/http.c net/site.c $(FUZZ_DIR)/site_blob.o
fuzz_virtq_SRCS := drivers/virtq.c
fuzz_flow_SRCS := net/flow.c
fuzz_dhcp6_SRCS := net/dhcp6.c net/dhcp6.h
fuzz_vnet_rx_CFLAGS := -Itests/unit
fuzz_ena_rx_CFLAGS := -Itests/unit
FUZZ_DRIVERS := drivers/virtio_net.c drivers/virtio_pci.c drivers/ena.c drivers/nic.c drivers/virtq.c drivers/pci.c kernel/printf.c net/flow.c \
	$(INTEL_SRCS)
FUZZ_NIC := tests/fuzz/nic_fuzz.c tests/fuzz/nic_fuzz.h $(HARNESS_SRCS) $(FAKEPCI_SRCS) tests/unit/host/csum.h
fuzz_vnet_rx_SRCS := $(FUZZ_DRIVERS) $(FUZZ_NIC) tests/unit/vnet_model.c tests/unit/vnet_model.h
fuzz_ena_rx_SRCS := $(FUZZ_DRIVERS) $(FUZZ_NIC) tests/unit/ena_model.c tests/unit/ena_model.h
# lwIP allocates with malloc here (MEM_LIBC_MALLOC), so ASan guards every pbuf and pcb; the test
# bounds each core's allocations by the budget net/net.c gives it, as the real allocator does (tests/fuzz/fuzz_rx.c).
FUZZ_LWIP_DEFS := -DMEM_LIBC_MALLOC=1 -Dmem_clib_malloc=fuzz_lwip_malloc -Dmem_clib_free=fuzz_lwip_free \
	-include tests/fuzz/lwip_malloc.h
fuzz_rx_SRCS := kernel/prof.c net/net.c net/flow.c net/spsc.c net/slab.c net/svc_metrics.c drivers/nic.c kernel/printf.c $(SVC_SRCS) $(HARNESS_SRCS) tests/fuzz/rx_frames.c \
	tests/fuzz/rx_lwip.c \
	tests/fuzz/rx_frames.h $(FUZZ_DIR)/lwip/insts/inst0.o $(FUZZ_DIR)/lwip/insts/inst1.o $(FUZZ_DIR)/site_blob.o
fuzz_rx_CFLAGS := $(LWIP_INC) $(FUZZ_LWIP_DEFS)
define fuzz_rule
$(FUZZ_DIR)/$(1): tests/fuzz/$(1).c $$($(1)_SRCS) tests/fuzz/fz_in.h tests/unit/host/stubs.c kernel/kernel.h | $(DEPS_STAMP)
	@mkdir -p $(FUZZ_DIR)
	@echo "  FUZZCC  $$@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $$($(1)_CFLAGS) $$(filter %.c %.o,$$^) -o $$@
endef
# The test site (tests/unit/site) as the fuzzed HTTP service's.
$(FUZZ_DIR)/site_blob.o: net/site_blob.S $(UNIT_SITE)
	@mkdir -p $(FUZZ_DIR)
	$(Q)$(FUZZ_CC) -c -DSITE_BIN='"$(UNIT_SITE)"' $< -o $@
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))
# Two renamed copies of one lwIP instance, as for the unit tests, compiled by clang with the
# sanitizers and coverage (lwIP's own warnings are not errors here).
FUZZ_OBJ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link $(FUZZ_SAN) $(FUZZ_LWIP_DEFS) $(LWIP_INC)
FUZZ_LWIP_OBJS := $(LWIP_SRCS:$(LWIPDIR)/%.c=$(FUZZ_DIR)/lwip/%.o) $(INST_GLUE:%=$(FUZZ_DIR)/lwip/%.o)
$(FUZZ_DIR)/lwip/%.o: $(LWIPDIR)/%.c net/port/lwipopts.h net/tcp_cubic.h net/port/arch/cc.h tests/fuzz/lwip_malloc.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) -std=gnu11 -w $(FUZZ_OBJ_FLAGS) -c $< -o $@
$(INST_GLUE:%=$(FUZZ_DIR)/lwip/%.o): $(FUZZ_DIR)/lwip/%.o: net/%.c net/inst.h net/inst_priv.h net/dhcp6.h net/service.h \
		net/port/lwipopts.h net/port/arch/cc.h net/tcp_cubic.h $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) -std=c11 -Wall -Wextra -Werror $(FUZZ_OBJ_FLAGS) -DPOLLUX_CONFIG_FILE='"config/default.h"' \
		-I. -Ikernel -Itests/unit/host -c $< -o $@
$(FUZZ_DIR)/lwip/insts/inst0.o: $(FUZZ_LWIP_OBJS) scripts/lwip-instances.sh
	$(Q)ld -r $(FUZZ_LWIP_OBJS) -o $(FUZZ_DIR)/lwip/inst_all.o
	$(Q)scripts/lwip-instances.sh nm objcopy $(FUZZ_DIR)/lwip/inst_all.o 2 $(FUZZ_DIR)/lwip/insts
$(FUZZ_DIR)/lwip/insts/inst1.o: $(FUZZ_DIR)/lwip/insts/inst0.o
.PHONY: fuzz
fuzz: $(DEPS_STAMP) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
	$(Q)tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_TIME) $(FUZZ_TARGETS)

# make test: unit tests, then QEMU boot tests of test builds (test-only console commands on).
test: $(DEPS_STAMP) unit
	$(Q)$(MAKE) --no-print-directory O=$(O)/test TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test/pollux.img $(O)/test/x86_64/BOOTX64.EFI $(O)/test/aarch64/BOOTAA64.EFI
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-v6 CONFIG=config/v6only.h TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-v6 CONFIG=config/v6only.h TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test-v6/pollux.img $(O)/test-v6/x86_64/BOOTX64.EFI $(O)/test-v6/aarch64/BOOTAA64.EFI
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-echo CONFIG=config/echo.h TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-echo CONFIG=config/echo.h TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test-echo/pollux.img $(O)/test-echo/x86_64/BOOTX64.EFI \
		$(O)/test-echo/aarch64/BOOTAA64.EFI
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-static CONFIG=config/static.h TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-static CONFIG=config/static.h TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test-static/pollux.img $(O)/test-static/x86_64/BOOTX64.EFI \
		$(O)/test-static/aarch64/BOOTAA64.EFI
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-mgmt CONFIG=config/mgmt.h TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-mgmt CONFIG=config/mgmt.h TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test-mgmt/pollux.img $(O)/test-mgmt/x86_64/BOOTX64.EFI \
		$(O)/test-mgmt/aarch64/BOOTAA64.EFI
	$(Q)python3 tests/net/mksite.py $(O)/site-tree
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-site SITE=$(O)/site-tree TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-site SITE=$(O)/site-tree TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test-site/pollux.img $(O)/test-site/x86_64/BOOTX64.EFI \
		$(O)/test-site/aarch64/BOOTAA64.EFI
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-hostile CONFIG=config/hostile.h TEST_COMMANDS=1 ARCH=x86_64 efi
	$(Q)$(MAKE) --no-print-directory O=$(O)/test-hostile CONFIG=config/hostile.h TEST_COMMANDS=1 ARCH=aarch64 efi
	$(Q)scripts/mkimage.sh $(O)/test-hostile/pollux.img $(O)/test-hostile/x86_64/BOOTX64.EFI \
		$(O)/test-hostile/aarch64/BOOTAA64.EFI
	$(Q)tests/run.sh $(O)

# make bench: Debian packages for the host and the Linux guest (scripts/bench/deps.sh), the Pollux
# images it compares (HTTP with a 64 B and a 16 KiB body, echo; each serving scripts/bench/mksite.py's
# two files as its site, which nginx in the Linux guest serves too), then the bench itself, which
# prints a table and writes build/bench/results.tsv, results.md (the table, scripts/bench/table.py) and
# results.png. BENCH_QUICK=1: one short round.
BENCH_O := $(O)/bench
BENCH_IMAGES := 64:config/bench64.h 16k:config/bench16k.h echo:config/echo.h
bench: $(DEPS_STAMP)
	$(Q)scripts/bench/deps.sh $(BENCH_O)
	$(Q)python3 scripts/bench/mksite.py $(BENCH_O)/site
	$(Q)set -e; for v in $(BENCH_IMAGES); do n=$${v%%:*}; c=$${v#*:}; \
		for a in x86_64 aarch64; do $(MAKE) --no-print-directory O=$(BENCH_O)/pollux-$$n CONFIG=$$c ARCH=$$a \
			SITE=$(BENCH_O)/site efi; done; \
		scripts/mkimage.sh $(BENCH_O)/pollux-$$n/pollux.img $(BENCH_O)/pollux-$$n/x86_64/BOOTX64.EFI \
			$(BENCH_O)/pollux-$$n/aarch64/BOOTAA64.EFI; done
	$(Q)python3 scripts/bench/bench.py $(BENCH_O)

# README's bench table (between its bench-table markers) made again from a run's results.tsv:
# make bench-readme [BENCH_RESULTS=dir or results.tsv] (default: the last make bench's).
BENCH_RESULTS ?= $(BENCH_O)
bench-readme:
	$(Q)python3 scripts/bench/table.py --readme README.md $(BENCH_RESULTS)

clean:
	rm -rf $(O)/x86_64 $(O)/aarch64 $(O)/test $(O)/test-v6 $(O)/test-echo $(O)/test-static $(O)/test-mgmt $(O)/test-hostile \
		$(O)/test-site $(O)/site-tree $(O)/unit $(IMAGE)

distclean:
	rm -rf $(O)

-include $(OBJS:.o=.d)
