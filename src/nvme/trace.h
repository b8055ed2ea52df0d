/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_iova trace events: every I/O command sent to a controller and every
 * request it ends, in the spirit of mainline's nvme_setup_cmd and
 * nvme_complete_rq, plus how the request's data was mapped.  Enable with
 * perf (-e 'nvme_iova:*'), trace-cmd or
 * /sys/kernel/tracing/events/nvme_iova; see doc/tracepoints.md.  Admin
 * commands (nvi_submit_admin()) are not traced.  A disabled event costs one
 * patched-out jump (a static key); its fields are read from the request
 * in TP_fast_assign(), only when it is recorded.
 *
 * CREATE_TRACE_POINTS is defined in main.c only.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM nvme_iova

#if !defined(NVI_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define NVI_TRACE_H

#include <linux/tracepoint.h>

#include "nvme-iova.h"

#ifndef NVI_TRACE_HELPERS
#define NVI_TRACE_HELPERS

/*
 * How a request's data was mapped: enum nvi_map_mode (a one-segment
 * request in iova mode is mapped directly: page), or one of these.
 */
enum nvi_trace_map {
	NVI_TRACE_MAP_DIRECT = NVI_MAP_PAGE + 1, /* iova mode, untranslated */
	NVI_TRACE_MAP_NONE,		/* no data (flush, discard, ...) */
	NVI_TRACE_MAP_PASSTHRU,		/* a user buffer, mapped by ioctl.c */
};

static inline u8 nvi_trace_map(struct request *rq)
{
	struct nvi_iod *iod = nvi_rq_iod(rq);

	if (blk_rq_is_passthrough(rq))
		return NVI_TRACE_MAP_PASSTHRU;
	if (!iod->mapped)
		return NVI_TRACE_MAP_NONE;
	if (iod->map.mode == NVI_MAP_IOVA && !dma_use_iova(&iod->map.state))
		return NVI_TRACE_MAP_DIRECT;
	return iod->map.mode;
}

/* The DMA segments the data pointer was built from (0: no data mapped) */
static inline u16 nvi_trace_segs(struct request *rq)
{
	struct nvi_iod *iod = nvi_rq_iod(rq);

	return iod->mapped ? iod->map.nsegs : 0;
}
#endif /* NVI_TRACE_HELPERS */

/* The values of the symbolic fields, for user space (perf, trace-cmd) */
TRACE_DEFINE_ENUM(NVI_MAP_IOVA);
TRACE_DEFINE_ENUM(NVI_MAP_SG);
TRACE_DEFINE_ENUM(NVI_MAP_PAGE);
TRACE_DEFINE_ENUM(NVI_TRACE_MAP_DIRECT);
TRACE_DEFINE_ENUM(NVI_TRACE_MAP_NONE);
TRACE_DEFINE_ENUM(NVI_TRACE_MAP_PASSTHRU);
TRACE_DEFINE_ENUM(nvme_cmd_flush);
TRACE_DEFINE_ENUM(nvme_cmd_write);
TRACE_DEFINE_ENUM(nvme_cmd_read);
TRACE_DEFINE_ENUM(nvme_cmd_write_zeroes);
TRACE_DEFINE_ENUM(nvme_cmd_dsm);

/*
 * A command goes to submission queue @qid: its command id (the tag in the
 * low 12 bits, a generation above), opcode and namespace, and the data:
 * how it was mapped, the DMA segments the data pointer was built from and
 * the bytes they cover.
 */
TRACE_EVENT(nvme_iova_submit,
	    TP_PROTO(struct nvi_queue *nvmeq, struct request *rq),
	    TP_ARGS(nvmeq, rq),
	    TP_STRUCT__entry(__field(int, ctrl_id)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u8, opcode)
			     __field(u8, map)
			     __field(u16, segs)
			     __field(u32, nsid)
			     __field(u32, bytes)),
	    TP_fast_assign(__entry->ctrl_id = nvmeq->ctrl->instance;
			   __entry->qid = nvmeq->qid;
			   __entry->cid = nvi_rq_iod(rq)->cmd.common.command_id;
			   __entry->opcode = nvi_rq_iod(rq)->cmd.common.opcode;
			   __entry->map = nvi_trace_map(rq);
			   __entry->segs = nvi_trace_segs(rq);
			   __entry->nsid =
				le32_to_cpu(nvi_rq_iod(rq)->cmd.common.nsid);
			   __entry->bytes = blk_rq_bytes(rq);),
	    TP_printk("nvmeiova%d: qid=%u cmdid=%#x tag=%u nsid=%u cmd=%s map=%s segs=%u bytes=%u",
		      __entry->ctrl_id, __entry->qid, __entry->cid,
		      __entry->cid & NVI_CID_TAG_MASK, __entry->nsid,
		      __print_symbolic(__entry->opcode,
				       { nvme_cmd_flush, "flush" },
				       { nvme_cmd_write, "write" },
				       { nvme_cmd_read, "read" },
				       { nvme_cmd_write_zeroes, "write_zeroes" },
				       { nvme_cmd_dsm, "dsm" }),
		      __print_symbolic(__entry->map,
				       { NVI_MAP_IOVA, "iova" },
				       { NVI_MAP_SG, "sg" },
				       { NVI_MAP_PAGE, "page" },
				       { NVI_TRACE_MAP_DIRECT, "direct" },
				       { NVI_TRACE_MAP_NONE, "none" },
				       { NVI_TRACE_MAP_PASSTHRU, "passthru" }),
		      __entry->segs, __entry->bytes)
);

/*
 * A request ends (one by one or in a completion batch), or is ended to be
 * sent again (a reset's cancel, an Abort): its command id as sent, the
 * NVMe status (without the phase bit) and the retries so far.
 */
TRACE_EVENT(nvme_iova_complete,
	    TP_PROTO(struct nvi_queue *nvmeq, struct request *rq),
	    TP_ARGS(nvmeq, rq),
	    TP_STRUCT__entry(__field(int, ctrl_id)
			     __field(u16, qid)
			     __field(u16, cid)
			     __field(u16, status)
			     __field(u8, retries)),
	    TP_fast_assign(__entry->ctrl_id = nvmeq->ctrl->instance;
			   __entry->qid = nvmeq->qid;
			   __entry->cid = nvi_cid(rq);
			   __entry->status = nvi_rq_iod(rq)->status;
			   __entry->retries = nvi_rq_iod(rq)->retries;),
	    TP_printk("nvmeiova%d: qid=%u cmdid=%#x tag=%u status=%#x retries=%u",
		      __entry->ctrl_id, __entry->qid, __entry->cid,
		      __entry->cid & NVI_CID_TAG_MASK, __entry->status,
		      __entry->retries)
);

#endif /* NVI_TRACE_H */

/* Out of tree: found through the module's -I$(src) (Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace

/* This part must be outside protection */
#include <trace/define_trace.h>
