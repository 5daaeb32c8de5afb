#ifndef BALANCE_REPORT_CLIBXML2_SHIM_H
#define BALANCE_REPORT_CLIBXML2_SHIM_H

#include <libxml/xmlversion.h>
/* Debian's libxml2 is built with ICU, and its headers would then pull in the system ICU headers,
   which clash with Foundation's own copy of ICU in any module importing both. Nothing here
   touches the ICU members of xmlCharEncodingHandler, so the declarations are left out. */
#undef LIBXML_ICU_ENABLED

#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/parser.h>

/// `xmlFree` is a global function-pointer variable, which Swift 6 refuses as not concurrency-safe.
static inline void br_xmlFree(void *pointer) { xmlFree(pointer); }

#endif
