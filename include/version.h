/* version.h - the one place stackd's version is written down. */
#ifndef STACKD_VERSION_H
#define STACKD_VERSION_H

#define STACKD_VERSION "0.1.0"

/* Set by the Makefile from `git describe`; "unknown" outside a checkout. */
#ifndef STACKD_COMMIT
#define STACKD_COMMIT "unknown"
#endif

#endif
