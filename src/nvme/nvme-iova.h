/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nvme_iova: a small NVMe PCIe driver whose data path maps every request
 * through the two-step DMA API.  Private declarations.
 */
#ifndef NVME_IOVA_H
#define NVME_IOVA_H

#include <linux/blk-mq.h>
#include <linux/cdev.h>
#include <linux/dmapool.h>
#include <linux/idr.h>
#include <linux/mutex.h>
#include <linux/nvme.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/scatterlist.h>
#include <linux/semaphore.h>
#include <linux/workqueue.h>

#include "dma-api.h"
#include "../compat/blk-compat.h"

#define NVI_PAGE_SIZE		4096u
#define NVI_SMALL_LIST		256u	/* the small list pool's size */
#define NVI_PAGE_SHIFT		12
/* Largest transfer: one PRP list page or one SGL segment always suffices */
#define NVI_MAX_XFER		(512u * 1024)
#define NVI_MAX_SEGS		127	/* as nvme-pci's NVME_MAX_SEGS (6.1) */
/* Per-page mappings of a transfer that does not start page-aligned */
#define NVI_MAX_DMA_SEGS	(NVI_MAX_XFER / NVI_PAGE_SIZE + 1)
#define NVI_AQ_DEPTH		32
#define NVI_IO_DEPTH		1024	/* as nvme-pci's io_queue_depth */
#define NVI_ADMIN_TIMEOUT	(10 * HZ)
#define NVI_IO_TIMEOUT		(30 * HZ)
#define NVI_MAX_RETRIES		5
/*
 * A completion's status as the driver keeps it (the CQE's status field
 * without the phase bit): status code and type in the low 11 bits, Do Not
 * Retry in bit 14 (named differently across kernel versions, so ours).
 */
#define NVI_STATUS_CODE		0x7ff
#define NVI_STATUS_DNR		0x4000
/* Identify Namespace NSFEAT: NPWG and NOWS are valid (OPTPERF, bit 4) */
#define NVI_NS_FEAT_OPTPERF	0x10

enum nvi_map_mode {
	NVI_MAP_IOVA,
	NVI_MAP_SG,
	NVI_MAP_PAGE,
};

enum nvi_sgl_policy {
	NVI_SGL_AUTO,	/* SGL for multi-segment requests if supported */
	NVI_SGL_NEVER,	/* always PRPs */
	NVI_SGL_ALWAYS,	/* always SGLs (falls back to PRPs if unsupported) */
};

enum nvi_state {
	NVI_NEW,
	NVI_LIVE,
	NVI_RESETTING,
	NVI_DELETING,
	NVI_DEAD,
};

extern int nvi_map_mode;
extern int nvi_sgl;
extern unsigned int nvi_io_timeout;
extern unsigned int nvi_poll_queues;
extern bool nvi_single_segment;
extern bool nvi_shadow_doorbells;
extern bool nvi_batch_unmap;

struct nvi_ctrl;

/* One DMA segment handed to the controller */
struct nvi_seg {
	dma_addr_t addr;
	u32 len;
};

struct nvi_queue {
	struct nvi_ctrl *ctrl;
	/*
	 * sqes, sq_tail, sq_db_tail, the SQ doorbell; taken in task context
	 * only (queue_rq, commit_rqs, admin commands), so with interrupts on,
	 * as nvme-pci's: an MMIO doorbell write is slow in a guest
	 */
	spinlock_t sq_lock;
	spinlock_t cq_lock;	/* cqes, cq_head, cq_phase: one reaper */
	struct nvme_command *sqes;
	struct nvme_completion *cqes;
	dma_addr_t sq_dma;
	dma_addr_t cq_dma;
	u32 __iomem *q_db;
	u16 q_depth;
	u16 qid;
	u16 sq_tail;
	u16 sq_db_tail;		/* the tail the controller was last told */
	u16 cq_head;
	u8 cq_phase;
	bool enabled;
	bool polled;		/* no interrupt: reaped by ->poll() */
	bool irq_requested;
	int cq_vector;
	/* shadow doorbells and event indexes (dbbuf.c); NULL: registers only */
	__le32 *dbbuf_sq_db;
	__le32 *dbbuf_cq_db;
	__le32 *dbbuf_sq_ei;
	__le32 *dbbuf_cq_ei;
};

/**
 * struct nvi_dma_map - how one data buffer was mapped
 * @mode: map mode used (a passthrough buffer may differ from the module's)
 * @dir: DMA direction
 * @total_len: bytes mapped
 * @nsegs: entries used in @segs
 * @state: two-step IOVA state (iova mode); dma_use_iova() says if used
 * @sgt: scatterlist table (sg mode)
 * @segs: the DMA segments the data pointer is built from
 */
struct nvi_dma_map {
	u8 mode;
	u8 dir;
	u16 nsegs;
	u32 total_len;
	struct dma_iova_state state;
	struct sg_table sgt;
	struct nvi_seg *segs;
};

/*
 * A PRP list, SGL segment or DSM range list for the controller, from one
 * of the controller's two DMA pools (as nvme-pci: 256 bytes, enough for
 * the 31 PRP entries of a 128 KiB transfer, else a page), NULL if none.
 */
struct nvi_list {
	void *va;
	dma_addr_t dma;
	struct dma_pool *pool;
	bool whole_page;	/* a zeroed page of its own (passthrough) */
};

/*
 * An admin command in flight, waited for by its submitter.  Its command id
 * is the slot's index in the low bits and a generation above them, so a
 * late completion of an older command on the slot does not match; the
 * fields below done are written under the admin queue's cq_lock.
 */
#define NVI_ADMIN_SLOTS		8
#define NVI_ADMIN_NO_CID	0xffff	/* no command (ids are 15 bits) */

struct nvi_admin_slot {
	struct completion done;
	u16 cid;
	u16 gen;
	u16 status;
	u64 result;
};

/* Request private data (blk-mq pdu) */
struct nvi_iod {
	struct nvme_command cmd;
	struct nvi_dma_map map;
	struct nvi_list list;
	u16 status;		/* NVMe status field (without phase) */
	u8 retries;
	bool mapped;
	bool aborted;
	bool passthru;
	u8 genctr;		/* generation, in the command id's top 4 bits */
	u64 result;
	/*
	 * followed by NVI_MAX_DMA_SEGS struct nvi_seg, then (sg mode)
	 * NVI_MAX_SEGS struct scatterlist
	 */
};

struct nvi_ns {
	struct list_head list;
	struct blkcompat_disk_hold hold;	/* the disk's private_data */
	struct nvi_ctrl *ctrl;
	struct gendisk *disk;
	u32 nsid;
	u8 lba_shift;
	bool unusable;		/* a format the driver cannot serve: no I/O */
	bool gone;		/* no longer active: removed by the scan */
	u64 nsze;
};

struct nvi_ctrl {
	struct pci_dev *pdev;
	struct device *dev;		/* the PCI device: DMA goes here */
	struct device device;		/* class device nvmeiova<N> */
	struct cdev cdev;
	int instance;
	void __iomem *bar;
	u64 cap;
	u32 db_stride;
	u32 ctrl_config;
	enum nvi_state state;
	spinlock_t state_lock;		/* state transitions */
	int map_mode;			/* enum nvi_map_mode, fixed at probe */

	struct nvi_queue *queues;	/* [0] admin, [1..nr_io_queues] I/O */
	unsigned int nr_io_queues;	/* with interrupts, then polled */
	unsigned int nr_poll_queues;	/* the last nr_poll_queues of them */
	unsigned int max_io_queues;	/* allocated */
	unsigned int nr_vecs;
	unsigned int q_depth;
	bool tagset_ready;
	struct blk_mq_tag_set tagset;
	struct dma_pool *list_pool;	/* NVI_PAGE_SIZE lists */
	struct dma_pool *small_pool;	/* NVI_SMALL_LIST lists */
	/* Doorbell Buffer Config pages (dbbuf.c); NULL: not in use */
	__le32 *dbbuf_dbs;
	__le32 *dbbuf_eis;
	dma_addr_t dbbuf_dbs_dma;
	dma_addr_t dbbuf_eis_dma;

	struct mutex shutdown_lock;	/* nvi_dev_disable() one at a time */
	/* admin queue: up to NVI_ADMIN_SLOTS commands, each waited for */
	struct semaphore admin_free;	/* slots not in use */
	unsigned long admin_busy;	/* bitmap of the slots in use */
	struct nvi_admin_slot admin[NVI_ADMIN_SLOTS];

	/* identify data */
	char serial[21];
	char model[41];
	char firmware[9];
	u32 max_hw_sectors;
	u16 oncs;
	u16 oacs;
	u16 awupf;		/* atomic write unit, 0's based, in blocks */
	u8 dmrl;		/* ranges per Dataset Management, 0: 256 */
	u32 dmrsl;		/* blocks per DSM range, 0: no limit */
	u32 wzsl_sectors;	/* Write Zeroes size limit, 0: the MDTS one */
	u8 vwc;
	bool sgl_supported;
	u32 nn;

	/*
	 * One namespace scan at a time; the namespace list changes only
	 * under it (and ns_lock), or at removal once no ioctl runs.
	 */
	struct mutex scan_lock;
	unsigned int freeze_noio;	/* nvi_freeze_namespaces(), scan_lock */
	struct nvme_effects_log *effects;	/* NULL: none read */
	struct mutex ns_lock;		/* the namespaces list */
	struct list_head namespaces;
	struct rw_semaphore ioctl_rwsem;
	struct work_struct reset_work;
	/*
	 * An FLR or PCI error handler did the first half of a reset
	 * (controller stopped, requests requeued) and left the second to the
	 * reset work (pci.c)
	 */
	bool reset_stopped;
	/* a link reset blanked the config space and no slot_reset came yet */
	bool config_lost;
	struct pci_saved_state *pci_state;	/* nvi_save_config() */

	/* batched strict unmapping (dma_iova_batch_defers(), batch_unmap) */
	/*
	 * debugfs: the next N I/O commands go with a command id of another
	 * generation, so that their completions must be refused as stale
	 */
	atomic_t inject_stale_cid;
	bool iova_batch_defers;
	struct nvi_stats __percpu *stats;
	struct dentry *debugfs;
};

/*
 * What the completion batches were like (debugfs completion_batches) and
 * how the doorbells were rung (debugfs doorbells).  Histogram bucket i
 * counts batches of 2^i to 2^(i+1) - 1, the last one everything larger.
 */
#define NVI_BATCH_HIST	8

struct nvi_stats {
	u64 single;			/* requests ended one by one */
	u64 batches;			/* completion batches (per controller) */
	u64 batched;			/* requests ended in them */
	u64 batched_ranges;		/* IOVA ranges destroyed into a batch */
	u64 batch_hist[NVI_BATCH_HIST];	/* requests per completion batch */
	u64 range_hist[NVI_BATCH_HIST];	/* ranges per batch flush, when any */
	/* I/O queue doorbells: the register written, or the shadow only */
	u64 sq_mmio;
	u64 sq_shadow;
	u64 cq_mmio;
	u64 cq_shadow;
};

/* Whether to destroy a completion batch's IOVA ranges with one flush. */
static inline bool nvi_batching(struct nvi_ctrl *ctrl)
{
	return ctrl->iova_batch_defers && READ_ONCE(nvi_batch_unmap);
}

static inline struct nvi_iod *nvi_rq_iod(struct request *rq)
{
	return blk_mq_rq_to_pdu(rq);
}

/*
 * A command id is the request's tag (under 4096: queues are at most 1024
 * deep) and, in its top 4 bits, a generation that changes each time the
 * tag is sent again, as nvme-pci does: an Abort for a timed-out command or
 * a late completion cannot be taken for a newer command on the same tag.
 */
#define NVI_CID_TAG_MASK	0xfff
#define NVI_CID_GEN_SHIFT	12

static inline u16 nvi_cid(struct request *rq)
{
	return (nvi_rq_iod(rq)->genctr & 0xf) << NVI_CID_GEN_SHIFT | rq->tag;
}

/* main.c */
extern struct workqueue_struct *nvi_wq;	/* reset work */
const char *nvi_map_mode_name(int mode);

/* core.c: controller state, CC enable/disable/shutdown, admin commands */
bool nvi_change_state(struct nvi_ctrl *ctrl, enum nvi_state new);
const char *nvi_state_name(enum nvi_state state);
blk_status_t nvi_error_status(u16 status);
void nvi_admin_init(struct nvi_ctrl *ctrl);
void nvi_admin_complete(struct nvi_ctrl *ctrl, u16 cid, u16 status, u64 result);
void nvi_admin_cancel(struct nvi_ctrl *ctrl);
int nvi_submit_admin(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		     u64 *result, unsigned int timeout);
int nvi_admin_data(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		   void *buf, size_t len, enum dma_data_direction dir);
int nvi_enable_admin(struct nvi_ctrl *ctrl);
int nvi_disable_cc(struct nvi_ctrl *ctrl);
int nvi_shutdown_cc(struct nvi_ctrl *ctrl);
int nvi_identify_ctrl(struct nvi_ctrl *ctrl);
int nvi_set_queue_count(struct nvi_ctrl *ctrl, unsigned int want);
int nvi_create_io_queues(struct nvi_ctrl *ctrl);

/* pci.c: PCI probe and remove, controller bring-up and teardown */
int nvi_dev_enable(struct nvi_ctrl *ctrl, bool first);
void nvi_dev_disable(struct nvi_ctrl *ctrl, bool shutdown);
void nvi_restore_config(struct nvi_ctrl *ctrl);
extern struct pci_driver nvi_driver;
/* reset.c */
void nvi_reset_work(struct work_struct *work);
void nvi_shutdown(struct pci_dev *pdev);
extern const struct pci_error_handlers nvi_err_handler;
void nvi_schedule_reset(struct nvi_ctrl *ctrl);
int nvi_reset_ctrl_sync(struct nvi_ctrl *ctrl);

/* sysfs.c: the class device nvmeiova<N> and its character device */
#define NVI_MINORS	256
extern struct class nvi_class;
extern struct ida nvi_instance_ida;
extern dev_t nvi_chr_devt;
void nvi_ctrl_release(struct device *dev);
extern const struct file_operations nvi_ctrl_fops;

/* queue.c */
int nvi_alloc_queue(struct nvi_ctrl *ctrl, int qid, int depth);
void nvi_free_queues(struct nvi_ctrl *ctrl);
void nvi_init_queue(struct nvi_queue *nvmeq);
int nvi_request_queue_irq(struct nvi_queue *nvmeq);
void nvi_free_queue_irq(struct nvi_queue *nvmeq);
void nvi_submit_cmd(struct nvi_queue *nvmeq, struct nvme_command *cmd,
		    bool ring);
int nvi_reap_cq(struct nvi_queue *nvmeq, struct io_comp_batch *iob);
int nvi_poll_cq(struct nvi_queue *nvmeq);
void nvi_ring_sq(struct nvi_queue *nvmeq);
int nvi_create_io_queue(struct nvi_ctrl *ctrl, int qid);
void nvi_suspend_queue(struct nvi_queue *nvmeq);
int nvi_setup_irqs(struct nvi_ctrl *ctrl, unsigned int nr_io);

/* A completion is posted at the head (a stale look only delays a reap). */
static inline bool nvi_cqe_pending(struct nvi_queue *nvmeq)
{
	struct nvme_completion *cqe = &nvmeq->cqes[READ_ONCE(nvmeq->cq_head)];

	return (le16_to_cpu(READ_ONCE(cqe->status)) & 1) ==
		READ_ONCE(nvmeq->cq_phase);
}

/* dbbuf.c: shadow doorbells */
void nvi_dbbuf_alloc(struct nvi_ctrl *ctrl);
void nvi_dbbuf_free(struct nvi_ctrl *ctrl);
void nvi_dbbuf_init_queue(struct nvi_queue *nvmeq);
void nvi_dbbuf_set(struct nvi_ctrl *ctrl);
bool nvi_dbbuf_update(u16 value, __le32 *db, __le32 *ei);

/* blk-mq.c */
void nvi_complete_rq(struct request *rq);
void nvi_complete_batch(struct io_comp_batch *iob);
int nvi_alloc_tagset(struct nvi_ctrl *ctrl);
void nvi_cancel_requests(struct nvi_ctrl *ctrl);
extern const struct blk_mq_ops nvi_mq_ops;

/* map.c: DMA mapping of requests and of pinned passthrough buffers */
size_t nvi_pdu_size(int mode);
void nvi_iod_init(struct nvi_iod *iod, int mode);
blk_status_t nvi_map_rq(struct nvi_ctrl *ctrl, struct request *rq);
void nvi_unmap_rq(struct nvi_ctrl *ctrl, struct request *rq,
		  struct dma_iova_batch *batch);
int nvi_map_pages(struct nvi_ctrl *ctrl, struct nvi_dma_map *map,
		  struct page **pages, unsigned int npages,
		  unsigned int offset, unsigned int len,
		  enum dma_data_direction dir);
void nvi_unmap_pages(struct nvi_ctrl *ctrl, struct nvi_dma_map *map);

/* prp-sgl.c: a command's data pointer from mapped segments */
int nvi_setup_dptr(struct nvi_ctrl *ctrl, struct nvme_command *cmd,
		   struct nvi_dma_map *map, bool use_sgl, struct nvi_list *list,
		   gfp_t gfp);
void *nvi_alloc_list(struct nvi_ctrl *ctrl, struct nvi_list *list,
		     size_t bytes, gfp_t gfp);
void nvi_free_list(struct nvi_list *list);
bool nvi_want_sgl(struct nvi_ctrl *ctrl, unsigned int nsegs);

/* ns.c */
int nvi_scan_namespaces(struct nvi_ctrl *ctrl);
int nvi_scan_locked(struct nvi_ctrl *ctrl, bool frozen);
void nvi_freeze_namespaces(struct nvi_ctrl *ctrl);
void nvi_unfreeze_namespaces(struct nvi_ctrl *ctrl);
struct nvi_ns *nvi_get_ns(struct nvi_ctrl *ctrl, u32 nsid);
void nvi_put_ns(struct nvi_ns *ns);
int nvi_rescan(struct nvi_ctrl *ctrl);
void nvi_remove_namespaces(struct nvi_ctrl *ctrl);
void nvi_kick_namespaces(struct nvi_ctrl *ctrl, bool quiesce);
struct nvi_ns *nvi_find_ns(struct nvi_ctrl *ctrl, u32 nsid);
extern const struct block_device_operations nvi_bdev_ops;

/* debugfs.c */
void nvi_debugfs_init(void);
void nvi_debugfs_exit(void);
void nvi_debugfs_add(struct nvi_ctrl *ctrl);
void nvi_debugfs_remove(struct nvi_ctrl *ctrl);
void nvi_count_batch(struct nvi_ctrl *ctrl, unsigned int rqs,
		     unsigned int ranges);

/* effects.c */
int nvi_read_effects(struct nvi_ctrl *ctrl, u8 lpa);
u32 nvi_command_effects(struct nvi_ctrl *ctrl, bool io, u8 opcode);
void nvi_passthru_start(struct nvi_ctrl *ctrl, u32 effects);
void nvi_passthru_end(struct nvi_ctrl *ctrl, u32 effects);

/* ioctl.c */
long nvi_ctrl_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int nvi_ns_ioctl(struct nvi_ns *ns, unsigned int cmd, unsigned long arg);

#endif /* NVME_IOVA_H */
