/* make bench: the HTTP service with the defaults, "/" serving 64 bytes (nginx in the Linux guest
 * serves the same bytes, captured from this image). */
#include "default.h"
#undef POLLUX_HTTP_BODY_SIZE
#define POLLUX_HTTP_BODY_SIZE 64
