/*
 * __assign_str() takes the field alone, its source being the one given to
 * __string(): v6.10, commit 2c92ca849fcc ("tracing/treewide: Remove second
 * parameter of __assign_str()").  Before, it takes (field, source): the
 * call below has too few arguments (6.1), or the header is not there yet
 * (5.10 defines the stages in include/trace/trace_events.h); either way
 * the probe fails.  The macro's arity is checked when the stringified call
 * is expanded.
 */
#include <linux/stringify.h>
#include <linux/tracepoint.h>
#include <trace/stages/stage6_event_callback.h>

const char probe[] = __stringify(__assign_str(dev));
