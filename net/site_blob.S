/* The packed site (scripts/site.py) as bytes of the image: SITE_BIN names the file. */
	.section .rodata.pollux_site, "a"
	.balign 64
	.globl pollux_site
	.globl pollux_site_end
pollux_site:
	.incbin SITE_BIN
pollux_site_end:
	.section .note.GNU-stack, "", %progbits
