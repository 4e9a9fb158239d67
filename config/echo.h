/* Example configuration: the defaults, with the TCP and UDP echo service on port 7.
 * Build with: make CONFIG=config/echo.h */
#include "default.h"
#undef POLLUX_SERVICE
#define POLLUX_SERVICE POLLUX_SERVICE_ECHO
