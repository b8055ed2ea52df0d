// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-passthru-fuzz: random NVMe passthrough ioctls against nvme_iova
 * (or any driver with the stock ABI of <linux/nvme_ioctl.h>).
 *
 * Every call is generated from (seed, call index) alone, so a run is
 * reproduced by its seed and one call by --first K --count 1.  For each
 * call the fuzzer predicts what the driver must answer, in the order the
 * driver checks (privilege, the command structure, flags and metadata,
 * namespace, length, direction, user buffer), and compares:
 *  - a call the driver must refuse gets exactly that errno;
 *  - a call that reaches the controller may end in success, an NVMe status
 *    (> 0), ENOMEM, or ETIMEDOUT when it asked for a short timeout;
 *  - anything else is an unexpected outcome and fails the run.
 * After the run: Identify Controller succeeds and matches the one taken at
 * the start, and /proc/vmstat shows as many pins released as acquired.
 *
 * What it will not send (see the tables below):
 *  - destructive admin commands (queue create/delete, format, sanitize,
 *    namespace management/attachment, firmware, doorbell buffer config,
 *    host memory buffer, ...), NVME_IOCTL_RESET and SUBSYS_RESET, unless
 *    --destructive; asynchronous event requests (they hold a slot until an
 *    event arrives) likewise;
 *  - a command that reaches the controller with a buffer smaller than
 *    what the controller transfers for it beyond the mapped pages: the
 *    controller would follow PRP entries the driver never wrote (address
 *    0, or the next page of data read as a PRP list), which the stock
 *    driver allows root to do as well.  A mismatch within the pinned
 *    pages (data length shorter or longer than the command's NLB, odd
 *    lengths) is sent.  Such calls are regenerated, and counted.
 *  - dataset management or copy with a buffer whose PRP2 the driver
 *    points at a PRP list (the data length reaches past the second page)
 *    while the command's own transfer ends in the second page: the
 *    controller then takes PRP2 for a data page and reads the driver's
 *    PRP list (IOVAs, stale pool memory) as LBA ranges.  Regenerated and
 *    counted too.
 *  - a write-class I/O command aimed into the protected LBA range
 *    (--protect), so that data written there before the fuzz survives:
 *    every I/O opcode other than read, compare, verify and flush gets a
 *    starting LBA at or past the end of that range, and the ranges that
 *    dataset management and copy read from the buffer lie past it too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/nvme_ioctl.h>
#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;

#define PAGE		4096u
#define DRV_MAX_XFER	(512u * 1024)	/* nvme_iova's NVI_MAX_XFER */
#define DATA_SIZE	(2u * 1024 * 1024)
#define EDGE_SIZE	(64u * 1024)
#define UNPRIV_ID	65534
#define NVME_IOCTL_IO64_CMD_NR	0x48
#define NVME_IOCTL_IO64_VEC_NR	0x49

/* ---- random numbers: splitmix64, one stream per call ------------------- */

static u64 rng_state;

static u64 rnd(void)
{
	u64 z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static u32 below(u32 n)
{
	return n ? (u32)(rnd() % n) : 0;
}

/* true with probability pct percent */
static bool chance(unsigned int pct)
{
	return below(100) < pct;
}

/* ---- what the device, the namespace and the driver look like ----------- */

struct target {
	int ctrl_fd;		/* /dev/nvmeiovaN, or -1 */
	int ns_fd;		/* /dev/nvmeiovaNnM, or -1 */
	u32 ns_nsid;	/* NVME_IOCTL_ID of ns_fd */
	u32 active[64];	/* active namespace IDs */
	unsigned int nactive;
	u32 max_xfer;	/* the driver's limit for data_len */
	u32 mdts_bytes;	/* from Identify Controller (0: none) */
	unsigned int lbads;	/* log2 of the namespace's block size */
	u64 nsze;		/* namespace size in blocks */
	u64 protect_end;	/* first LBA writes may touch */
	u32 acs[256];	/* Commands Supported and Effects: admin */
	u32 iocs[256];	/* and I/O */
	bool have_effects;
	unsigned char id_ctrl[4096];
};

static struct target tg;

/* ---- memory the calls point at ------------------------------------------ */

static unsigned char *data_rw;	/* DATA_SIZE read-write */
static unsigned char *data_ro;	/* DATA_SIZE read-only, safe DSM pattern */
static unsigned char *edge;	/* EDGE_SIZE read-write, then a guard page */
static unsigned char *hole;	/* DATA_SIZE unmapped */
static unsigned char *cmd_page;	/* the command structure, normally */
static unsigned char *cmd_ro;	/* a read-only page for it */
static unsigned char *cmd_edge;	/* a page followed by a guard page */

enum ptr_class {
	P_VALID, P_UNALIGNED, P_NULL, P_LOW, P_UNMAPPED, P_KERNEL, P_RO,
	P_GUARD, P_NR
};

static const char *const ptr_names[P_NR] = {
	"valid", "unaligned", "null", "low", "unmapped", "kernel",
	"read-only", "guard",
};

enum ioc_kind {
	K_ADMIN, K_ADMIN64, K_IO, K_IO64, K_SUBMIT, K_ID, K_RESCAN, K_RESET,
	K_SUBSYS_RESET, K_UNKNOWN, K_NR
};

static const char *const kind_names[K_NR] = {
	"ADMIN_CMD", "ADMIN64_CMD", "IO_CMD", "IO64_CMD", "SUBMIT_IO", "ID",
	"RESCAN", "RESET", "SUBSYS_RESET", "unknown-ioctl",
};

/*
 * Admin opcodes never sent without --destructive: they tear down what the
 * driver depends on (queues, namespaces, media, firmware, doorbells), or
 * (AER) stay outstanding until an event.
 */
static const u8 admin_destructive[] = {
	0x00,	/* delete I/O submission queue */
	0x01,	/* create I/O submission queue */
	0x04,	/* delete I/O completion queue */
	0x05,	/* create I/O completion queue */
	0x0c,	/* asynchronous event request: held until an event */
	0x0d,	/* namespace management */
	0x10,	/* firmware commit */
	0x11,	/* firmware image download */
	0x14,	/* device self-test */
	0x15,	/* namespace attachment */
	0x1c,	/* virtualization management */
	0x20,	/* capacity management */
	0x24,	/* lockdown */
	0x7c,	/* doorbell buffer config: moves the doorbells into memory */
	0x80,	/* format NVM */
	0x81,	/* security send */
	0x84,	/* sanitize */
};

/* Set Features identifiers excluded likewise: host memory buffer. */
#define FEAT_HMB	0x0d

/* Feature identifiers that move no data (NVMe 1.4, 5.21.1). */
static bool feature_has_no_data(u32 fid)
{
	switch (fid) {
	case 0x01: case 0x02: case 0x04: case 0x05: case 0x06: case 0x07:
	case 0x08: case 0x09: case 0x0a: case 0x0b: case 0x19:
		return true;
	default:
		return false;
	}
}

static bool in_list(const u8 *l, size_t n, u8 op)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l[i] == op)
			return true;
	return false;
}

/* ---- one generated call ------------------------------------------------- */

struct call {
	unsigned long idx;
	enum ioc_kind kind;
	bool on_ns;		/* issued on the namespace block device */
	int sptr;		/* class of the structure pointer */
	int dptr;		/* class of the data pointer */
	bool io;		/* runs on an I/O queue */
	bool short_timeout;
	union {
		struct nvme_passthru_cmd64 p64;
		struct nvme_passthru_cmd p;
		struct nvme_user_io u;
	} s;
	size_t ssize;
	unsigned long req;
	u8 opcode;
	u32 nsid, data_len;
	u64 addr;
	s64 xfer;		/* bound on what the controller moves, -1 unknown */
	/* prediction */
	int want;		/* -errno exactly, 0: reaches the controller, */
				/* WANT_0_OR_ENOTTY */
	long want_ret;		/* for NVME_IOCTL_ID */
};

/* ---- outcome table ------------------------------------------------------- */

#define WANT_0_OR_ENOTTY	1
#define ERRNO_MAX	140
struct tally {
	unsigned long ok, status, err[ERRNO_MAX], unexpected, calls;
};

static struct tally tal[K_NR];
static unsigned long statuses[0x800];

/* completions by (queue, opcode, status) */
#define OPST_MAX	512
static struct opst {
	bool io;
	u8 opcode;
	u16 status;
	unsigned long n;
} opst[OPST_MAX];
static unsigned int nopst;

static void count_opst(bool io, u8 opcode, u16 status)
{
	unsigned int i;

	for (i = 0; i < nopst; i++) {
		if (opst[i].io == io && opst[i].opcode == opcode &&
		    opst[i].status == status) {
			opst[i].n++;
			return;
		}
	}
	if (nopst < OPST_MAX)
		opst[nopst++] = (struct opst){ io, opcode, status, 1 };
}

static unsigned long regenerated, regenerated_prp, skipped_unmodelled;
static unsigned long dptr_seen[P_NR], sptr_seen[P_NR];
static bool opt_unpriv, opt_destructive, opt_verbose;
static unsigned int opt_path;	/* 0 mixed, 1 admin, 2 io */
static unsigned int opt_short_permille = 5;	/* timeouts of 1-20 ms */

/* ---- helpers -------------------------------------------------------------- */

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "nvme-passthru-fuzz: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static void *map_or_die(size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

static int admin_data(u8 opc, u32 nsid, u32 cdw10,
		      u32 cdw11, void *buf, u32 len)
{
	struct nvme_passthru_cmd c;

	memset(&c, 0, sizeof(c));
	c.opcode = opc;
	c.nsid = nsid;
	c.cdw10 = cdw10;
	c.cdw11 = cdw11;
	c.addr = (uintptr_t)buf;
	c.data_len = len;
	return ioctl(tg.ctrl_fd >= 0 ? tg.ctrl_fd : tg.ns_fd,
		     NVME_IOCTL_ADMIN_CMD, &c);
}

static int identify(u32 cns, u32 nsid, void *buf)
{
	return admin_data(0x06, nsid, cns, 0, buf, 4096);
}

/*
 * /proc/vmstat sums per-node counters without the per-CPU deltas not yet
 * folded in; writing vm.stat_refresh (root) folds them first.
 */
static void vmstat_refresh(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, "1\n", 2) < 0 && errno != EINVAL)
		fprintf(stderr, "vm.stat_refresh: %s\n", strerror(errno));
	close(fd);
}

static bool get_vmstat(const char *name, unsigned long long *v)
{
	char line[256];
	size_t n = strlen(name);
	FILE *f = fopen("/proc/vmstat", "r");
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, n) && line[n] == ' ') {
			*v = strtoull(line + n + 1, NULL, 10);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * pins held (acquired - released) and acquired so far; false if the
 * counters are missing
 */
static bool pins_held(long long *held, unsigned long long *acquired)
{
	unsigned long long a, r;

	vmstat_refresh();
	if (!get_vmstat("nr_foll_pin_acquired", &a) ||
	    !get_vmstat("nr_foll_pin_released", &r))
		return false;
	*held = (long long)(a - r);
	*acquired = a;
	return true;
}

/* max_hw_sectors_kb of the namespace's queue, 0 if unknown */
static u32 sysfs_max_xfer(const char *nsdev)
{
	char path[256];
	const char *base = strrchr(nsdev, '/');
	unsigned long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/block/%s/queue/max_hw_sectors_kb",
		 base ? base + 1 : nsdev);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%lu", &kb) != 1)
		kb = 0;
	fclose(f);
	return (u32)(kb * 1024);
}

/*
 * Buffers the controller reads as LBA ranges (dataset management, copy)
 * must not name the protected range, however the buffer is aligned.
 * A buffer starting on 16 bytes gets 16-byte records: attributes 0, 8
 * blocks, a starting LBA past the protected range (read as 32-byte copy
 * source ranges, these name LBAs past it too).  Any other start gets the
 * same byte repeated in every word (0x00100000): every 4-byte field then
 * reads as a rotation of it, and every 8-byte LBA as at least
 * 0x0000001000000010, far past the end of any namespace we test.
 */
static void fill_safe_ranges(unsigned char *p, size_t len, bool aligned)
{
	u64 slba = tg.protect_end + 4096;
	u32 w = 0x00100000, nlb = 8;
	unsigned char rec[16];
	size_t i;

	memset(rec, 0, sizeof(rec));
	if (aligned) {
		memcpy(rec + 4, &nlb, 4);
		memcpy(rec + 8, &slba, 8);
	} else {
		for (i = 0; i < 16; i += 4)
			memcpy(rec + i, &w, 4);
	}
	for (i = 0; i + 16 <= len; i += 16)
		memcpy(p + i, rec, 16);
}

/* ---- setup ----------------------------------------------------------------- */

/* the "unmapped" addresses must really be unmapped (mincore: ENOMEM) */
static void check_hole(void)
{
	unsigned char vec;
	size_t off;

	for (off = 0; off < DATA_SIZE; off += PAGE)
		if (mincore(hole + off, PAGE, &vec) != -1 || errno != ENOMEM)
			die("%s", "something got mapped into the unmapped hole");
}

static void setup_memory(void)
{
	data_rw = map_or_die(DATA_SIZE, PROT_READ | PROT_WRITE);
	memset(data_rw, 0, DATA_SIZE);
	data_ro = map_or_die(DATA_SIZE, PROT_READ | PROT_WRITE);
	fill_safe_ranges(data_ro, DATA_SIZE, false);
	if (mprotect(data_ro, DATA_SIZE, PROT_READ))
		die("mprotect: %s", strerror(errno));
	edge = map_or_die(EDGE_SIZE + PAGE, PROT_READ | PROT_WRITE);
	memset(edge, 0, EDGE_SIZE);
	if (mprotect(edge + EDGE_SIZE, PAGE, PROT_NONE))
		die("mprotect: %s", strerror(errno));
	cmd_page = map_or_die(PAGE, PROT_READ | PROT_WRITE);
	cmd_ro = map_or_die(PAGE, PROT_READ | PROT_WRITE);
	memset(cmd_ro, 0, PAGE);
	mprotect(cmd_ro, PAGE, PROT_READ);
	cmd_edge = map_or_die(2 * PAGE, PROT_READ | PROT_WRITE);
	if (mprotect(cmd_edge + PAGE, PAGE, PROT_NONE))
		die("mprotect: %s", strerror(errno));
	/* last: nothing mapped later may land in the hole */
	hole = map_or_die(DATA_SIZE, PROT_NONE);
	munmap(hole, DATA_SIZE);
	check_hole();
}

static int setup_target(void)
{
	unsigned char *buf = data_rw;
	unsigned int i, fmt;
	u32 *ids;
	int ret;

	ret = identify(1, 0, tg.id_ctrl);
	if (ret) {
		fprintf(stderr, "Identify Controller failed: %d (%s)\n", ret,
			ret < 0 ? strerror(errno) : "NVMe status");
		return -1;
	}
	if (tg.id_ctrl[77])
		tg.mdts_bytes = PAGE << tg.id_ctrl[77];
	if (!tg.max_xfer)
		tg.max_xfer = tg.mdts_bytes && tg.mdts_bytes < DRV_MAX_XFER ?
			tg.mdts_bytes : DRV_MAX_XFER;
	memset(buf, 0, 4096);
	if (!identify(2, 0, buf)) {
		ids = (u32 *)buf;
		for (i = 0; i < 64 && ids[i]; i++)
			tg.active[tg.nactive++] = ids[i];
	}
	if (!tg.ns_nsid)
		tg.ns_nsid = tg.nactive ? tg.active[0] : 1;
	memset(buf, 0, 4096);
	if (identify(0, tg.ns_nsid, buf)) {
		fprintf(stderr, "Identify Namespace %u failed\n", tg.ns_nsid);
		return -1;
	}
	memcpy(&tg.nsze, buf, 8);
	fmt = buf[26] & 0xf;
	tg.lbads = buf[128 + fmt * 4 + 2];
	if (tg.lbads < 9 || tg.lbads > 16) {
		fprintf(stderr, "odd LBA data size 2^%u\n", tg.lbads);
		return -1;
	}
	/* Commands Supported and Effects, 4 KiB: numd - 1 = 1023 */
	memset(buf, 0, 4096);
	if (!admin_data(0x02, 0, 0x05 | (1023u << 16), 0, buf, 4096)) {
		memcpy(tg.acs, buf, 1024);
		memcpy(tg.iocs, buf + 1024, 1024);
		tg.have_effects = true;
	}
	memset(buf, 0, 4096);
	return 0;
}

/* ---- the controller's side: how much it may transfer --------------------- */

static bool supported(bool io, u8 opc)
{
	if (!tg.have_effects)
		return true;
	return (io ? tg.iocs[opc] : tg.acs[opc]) & 1;
}

/*
 * Upper bound on the bytes the controller moves for a command, 0 if it moves
 * none (unsupported commands are refused before any transfer), -1 if this
 * fuzzer has no model of the command.
 */
static s64 xfer_bound(bool io, const struct nvme_passthru_cmd64 *c)
{
	u32 numd, fid;

	if (!supported(io, c->opcode))
		return 0;
	if (io) {
		switch (c->opcode) {
		case 0x00: case 0x04: case 0x08: case 0x0c:
			return 0;	/* flush, write uncorrectable, zeroes, verify */
		case 0x01: case 0x02: case 0x05:
			return (s64)((c->cdw12 & 0xffff) + 1) << tg.lbads;
		case 0x09:
			return ((c->cdw10 & 0xff) + 1) * 16;
		case 0x19:
			return ((c->cdw12 & 0xff) + 1) * 40;
		default:
			return -1;
		}
	}
	switch (c->opcode) {
	case 0x02:	/* no log page is larger than 4 KiB */
		numd = ((c->cdw11 & 0xffff) << 16 | c->cdw10 >> 16) + 1;
		return numd > 1024 ? 4096 : numd * 4;
	case 0x06:
		return 4096;
	case 0x08:
		return 0;
	case 0x09: case 0x0a:
		fid = c->cdw10 & 0xff;
		return feature_has_no_data(fid) ? 0 : 4096;
	default:
		return -1;
	}
}

/* ---- generating a call ---------------------------------------------------- */

/*
 * A data length: often what the command transfers (xfer, when known and
 * not 0) or a little more or less (a mismatch with its NLB), else one of
 * the length classes.
 */
static u32 gen_len(s64 xfer)
{
	u32 max = tg.max_xfer;

	if (!xfer && chance(50))
		return 0;
	if (xfer > 0 && xfer <= max && chance(50)) {
		switch (below(6)) {
		case 0:
			return (u32)xfer - 1 - below((u32)xfer);
		case 1:
			return (u32)xfer + 1 + below(4096);
		default:
			return (u32)xfer;
		}
	}
	switch (below(24)) {
	case 0: case 1:
		return 0;
	case 2: case 3: case 4:
		return 1 + 2 * below(2048);		/* odd */
	case 5: case 6: case 7:
		return 4096;
	case 8: case 9:
		return 512 * (1 + below(16));
	case 10:
		return max;
	case 11: case 12:
		return max + 1 + below(max);		/* past MDTS */
	case 13:
		return 0x80000000u | (u32)rnd();	/* huge */
	case 14:
		return 0xffffffffu;
	case 15: case 16:
		return 4 * (1 + below(1024));
	default:
		return 1 + below(max);
	}
}

static u32 gen_nsid(void)
{
	switch (below(24)) {
	case 0:
		return 0;
	case 1:
		return 0xffffffffu;
	case 2:
		return tg.ns_nsid + 1 + below(8);
	case 3:
		return (u32)rnd();
	default:
		return tg.ns_nsid;
	}
}

static u32 gen_timeout(struct call *c)
{
	if (below(1000) < opt_short_permille) {
		c->short_timeout = true;
		return 1 + below(20);
	}
	switch (below(200)) {
	case 0: case 1: case 2: case 3: case 4:
		return 0xffffffffu;
	default:
		return below(4) ? 0 : 1000 + below(60000);
	}
}

/* a starting LBA: anywhere for reads, past the protected range otherwise */
static u64 gen_slba(bool may_write)
{
	u64 lo = may_write ? tg.protect_end : 0;
	u64 span = tg.nsze > lo ? tg.nsze - lo : 1;

	switch (below(8)) {
	case 0:
		return lo;
	case 1:
		return tg.nsze - 1 - below(64) >= lo ? tg.nsze - 1 - below(64) : lo;
	case 2:
		return tg.nsze + below(1024);
	case 3:
		return lo + (rnd() >> 1);	/* huge, no wrap-around */
	default:
		return lo + rnd() % span;
	}
}

static u8 gen_admin_opcode(void)
{
	static const u8 common[] = { 0x02, 0x06, 0x06, 0x09, 0x0a, 0x08 };

	if (chance(70))
		return common[below(sizeof(common))];
	return (u8)rnd();
}

static u8 gen_io_opcode(void)
{
	static const u8 common[] = {
		0x00, 0x01, 0x02, 0x02, 0x04, 0x05, 0x08, 0x09, 0x0c, 0x19,
	};

	if (chance(75))
		return common[below(sizeof(common))];
	return (u8)rnd();
}

static void gen_admin_cdws(struct nvme_passthru_cmd64 *c)
{
	static const u8 lids[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0d, 0x70, 0xc0 };
	u32 numd;

	switch (c->opcode) {
	case 0x06:
		c->cdw10 = below(4) ? below(0x20) : (u32)rnd();
		if (chance(10))
			c->cdw10 |= below(0x10000) << 16;	/* CNTID */
		c->cdw11 = chance(80) ? 0 : below(4) << 24;	/* CSI */
		break;
	case 0x02:
		numd = chance(70) ? below(1024) : (u32)rnd();
		c->cdw10 = lids[below(sizeof(lids))] | (numd & 0xffff) << 16;
		if (chance(10))
			c->cdw10 |= below(16) << 8 | below(2) << 15;
		c->cdw11 = numd >> 16;
		if (chance(10)) {
			c->cdw12 = (u32)rnd();	/* offset */
			c->cdw13 = chance(50) ? 0 : (u32)rnd();
		}
		break;
	case 0x09: case 0x0a:
		c->cdw10 = below(4) ? below(0x20) : (u32)rnd();
		if (c->opcode == 0x09 && (c->cdw10 & 0xff) == 0x06)
			c->cdw11 = 1;	/* keep the volatile write cache on */
		else
			c->cdw11 = chance(50) ? below(16) : (u32)rnd();
		break;
	default:
		c->cdw10 = (u32)rnd();
		c->cdw11 = (u32)rnd();
		c->cdw12 = chance(50) ? 0 : (u32)rnd();
		break;
	}
	if (chance(5)) {
		c->cdw14 = (u32)rnd();
		c->cdw15 = (u32)rnd();
	}
}

static void gen_io_cdws(struct nvme_passthru_cmd64 *c)
{
	bool reads = c->opcode == 0x02 || c->opcode == 0x05 ||
		c->opcode == 0x0c || c->opcode == 0x00;
	u64 slba = gen_slba(!reads);
	u32 nlb;

	switch (below(20)) {
	case 0: case 1:
		nlb = 0;
		break;
	case 2:
		nlb = 0xffff;
		break;
	case 3: case 4:
		nlb = below(0x10000);
		break;
	default:
		nlb = below(tg.max_xfer >> tg.lbads);
		break;
	}
	c->cdw10 = (u32)slba;
	c->cdw11 = (u32)(slba >> 32);
	c->cdw12 = nlb;
	if (chance(15))
		c->cdw12 |= (u32)rnd() & 0xffff0000u;	/* FUA, LR, PRINFO, DTYPE */
	if (chance(10))
		c->cdw13 = (u32)rnd();
	if (chance(5)) {
		c->cdw14 = (u32)rnd();
		c->cdw15 = (u32)rnd();
	}
	if (c->opcode == 0x09) {	/* DSM: NR in CDW10, attributes in CDW11 */
		c->cdw10 = chance(70) ? below(8) : (u32)rnd();
		c->cdw11 = below(8);
	} else if (c->opcode == 0x19) {	/* copy: NR and format in CDW12 */
		c->cdw12 = below(8) | (chance(80) ? 0 : below(4) << 8) |
			(c->cdw12 & 0xffff0000u);
	}
}

static int gen_ptr_class(bool for_struct)
{
	unsigned int r = below(100);

	static const int bad_struct[] = {
		P_NULL, P_UNMAPPED, P_KERNEL, P_RO, P_GUARD, P_LOW, P_RO, P_GUARD,
	};
	static const int bad_data[] = {
		P_NULL, P_LOW, P_UNMAPPED, P_KERNEL, P_RO, P_RO, P_GUARD, P_GUARD,
	};

	if (for_struct) {
		if (r < 92)
			return P_VALID;
		return bad_struct[r - 92];
	}
	if (r < 65)
		return P_VALID;
	if (r < 80)
		return P_UNALIGNED;
	return bad_data[(r - 80) % 8];
}

/*
 * Place a data buffer of class cls and length len; *writable says whether
 * the memory may be written by us (for the DSM pattern).
 */
static u64 place_data(int cls, u32 len, bool *writable)
{
	u32 room = DATA_SIZE - PAGE;
	u32 span = len < room ? room - len : 0;
	u32 d;

	*writable = false;
	switch (cls) {
	case P_VALID:
		*writable = true;
		return (uintptr_t)data_rw + (below(span / PAGE + 1) * PAGE) % room;
	case P_UNALIGNED:
		*writable = true;
		d = below(span + 1);
		if (!(d & 3) && chance(50))
			d |= 1 + below(3);
		return (uintptr_t)data_rw + d % room;
	case P_NULL:
		return 0;
	case P_LOW:
		return PAGE * (1 + below(15)) + below(PAGE);
	case P_UNMAPPED:
		return (uintptr_t)hole + below(DATA_SIZE);
	case P_KERNEL:
		return chance(50) ? 0xffff888000000000ULL + below(1u << 30) :
			0xffffffff81000000ULL + below(1u << 24);
	case P_RO:
		return (uintptr_t)data_ro + below(span + 1) % room;
	default:	/* P_GUARD: ends somewhere before or in the guard page */
		d = 1 + below(len && len < EDGE_SIZE ? len + 64 : EDGE_SIZE);
		if (d > EDGE_SIZE)
			d = EDGE_SIZE;
		*writable = true;
		return (uintptr_t)edge + EDGE_SIZE - d;
	}
}

/* does [addr, addr + len) lie in readable (and, if need_write, writable) memory */
static bool data_ok(int cls, u64 addr, u32 len, bool need_write)
{
	switch (cls) {
	case P_VALID: case P_UNALIGNED:
		return true;
	case P_RO:
		return !need_write;
	case P_GUARD:
		return addr + len <= (uintptr_t)edge + EDGE_SIZE;
	default:
		return false;
	}
}

/* bytes the controller may reach through the PRPs of a mapped buffer */
static u64 covered(u64 addr, u32 len)
{
	u64 off = addr & (PAGE - 1);

	return len ? ((off + len + PAGE - 1) & ~(u64)(PAGE - 1)) - off : 0;
}

/*
 * Does the controller read the LBA ranges of dataset management or copy
 * from the driver's PRP list rather than from the buffer?  The driver
 * makes PRP2 a list pointer when data_len reaches past the second page;
 * the controller reads PRP2 as a list only when its own transfer does, as
 * a data page when the transfer ends in the second page.  With seed
 * 2409262989 a deallocate of 151 ranges, 497 bytes of them in the first
 * page and 435352 bytes of data_len, took the list for ranges 31 to 150:
 * one of them (the last IOVA's byte 3, then a zero entry) was LBA 0,
 * 255 blocks.  x: the bound xfer_bound() gave; a copy's range is 32 or
 * 40 bytes, depending on the format and the controller.
 */
static bool ranges_from_prp_list(const struct nvme_passthru_cmd64 *p, s64 x)
{
	u64 off = p->addr & (PAGE - 1);
	u64 lo = x;

	if (p->opcode == 0x19)
		lo = ((p->cdw12 & 0xff) + 1) * 32;
	else if (p->opcode != 0x09)
		return false;
	return off + p->data_len > 2 * PAGE && off + x > PAGE &&
		off + lo <= 2 * PAGE;
}

static bool ns_known(u32 nsid)
{
	unsigned int i;

	for (i = 0; i < tg.nactive; i++)
		if (tg.active[i] == nsid)
			return true;
	return !tg.nactive && nsid == tg.ns_nsid;
}

/*
 * The driver's answer for a call whose structure it could read: an errno
 * it must return before the controller sees anything, or 0.
 */
static int predict_passthru(struct call *c)
{
	const struct nvme_passthru_cmd64 *p = &c->s.p64;
	u8 dir = p->opcode & 3;

	if (p->flags || p->metadata_len || p->metadata)
		return -EINVAL;
	if (c->io) {
		if (c->on_ns && p->nsid != tg.ns_nsid)
			return -EINVAL;
		if (!c->on_ns && !ns_known(p->nsid))
			return -EINVAL;
	}
	if (!p->data_len)
		return 0;
	if (p->data_len > tg.max_xfer)
		return -EINVAL;
	if (dir == 0 || dir == 3)
		return -EINVAL;
	if (!p->addr)
		return -EFAULT;
	if (!data_ok(c->dptr, p->addr, p->data_len, dir == 2))
		return -EFAULT;
	return 0;
}

static int predict_submit(struct call *c)
{
	const struct nvme_user_io *u = &c->s.u;
	u32 len = ((u32)u->nblocks + 1) << tg.lbads;

	if (u->flags || u->metadata)
		return -EINVAL;
	if (u->opcode != 0x01 && u->opcode != 0x02 && u->opcode != 0x05)
		return -EINVAL;
	if (len > tg.max_xfer)
		return -EINVAL;
	if (!u->addr)
		return -EFAULT;
	if (!data_ok(c->dptr, u->addr, len, u->opcode == 0x02))
		return -EFAULT;
	return 0;
}

static enum ioc_kind gen_kind(bool *on_ns)
{
	static const enum ioc_kind io_kinds[] = { K_IO, K_IO64, K_SUBMIT };
	unsigned int r = below(1000);
	enum ioc_kind k;

	if (tg.ctrl_fd < 0)
		*on_ns = true;
	else if (tg.ns_fd < 0)
		*on_ns = false;
	else
		*on_ns = chance(50);
	if (r < 5)
		return K_UNKNOWN;
	if (r < 10)
		return K_ID;
	if (r < 11)
		return K_RESCAN;
	if (r < 13)
		return chance(50) ? K_RESET : K_SUBSYS_RESET;
	if (opt_path == 1)
		k = chance(50) ? K_ADMIN : K_ADMIN64;
	else if (opt_path == 2 || chance(60))
		k = io_kinds[below(3)];
	else
		k = chance(50) ? K_ADMIN : K_ADMIN64;
	if (k == K_SUBMIT && !*on_ns && tg.ns_fd >= 0 && chance(80))
		*on_ns = true;
	if (k == K_SUBMIT && !*on_ns && chance(90))
		k = chance(50) ? K_IO : K_IO64;	/* ENOTTY on the char device */
	return k;
}

/*
 * Build call idx.  Returns false if the call is not to be sent (a
 * destructive or unmodelled command, without --destructive).
 */
static bool gen_call(struct call *c, unsigned long idx, u64 seed)
{
	static const u8 submit_ops[] = { 0x01, 0x02, 0x02, 0x05 };
	struct nvme_passthru_cmd64 *p = &c->s.p64;
	unsigned int tries;
	bool writable;
	s64 x;

	rng_state = seed ^ (idx * 0xd1b54a32d192ed03ULL);
	rnd();
	for (tries = 0; tries < 200; tries++) {
		memset(c, 0, sizeof(*c));
		c->idx = idx;
		c->kind = gen_kind(&c->on_ns);
		c->sptr = gen_ptr_class(true);
		c->dptr = gen_ptr_class(false);
		c->xfer = 0;
		switch (c->kind) {
		case K_ADMIN: case K_ADMIN64: case K_IO: case K_IO64:
			c->io = c->kind == K_IO || c->kind == K_IO64;
			p->opcode = c->io ? gen_io_opcode() : gen_admin_opcode();
			p->nsid = c->io ? gen_nsid() : (chance(60) ? 0 : gen_nsid());
			if (c->io)
				gen_io_cdws(p);
			else
				gen_admin_cdws(p);
			if (chance(2))
				p->flags = (u8)rnd();
			if (chance(3))
				p->rsvd1 = (u16)rnd();
			if (chance(2))
				p->metadata_len = below(2) ? 4096 : (u32)rnd();
			if (chance(2))
				p->metadata = place_data(gen_ptr_class(false), 512,
							 &writable);
			if (chance(5)) {
				p->cdw2 = (u32)rnd();
				p->cdw3 = (u32)rnd();
			}
			if (chance(3))
				p->rsvd2 = (u32)rnd();
			x = xfer_bound(c->io, p);
			p->data_len = gen_len(x);
			p->addr = place_data(c->dptr, p->data_len, &writable);
			p->timeout_ms = gen_timeout(c);
			c->opcode = p->opcode;
			c->nsid = p->nsid;
			c->data_len = p->data_len;
			c->addr = p->addr;
			if (!c->io && !opt_destructive &&
			    (in_list(admin_destructive, sizeof(admin_destructive),
				     p->opcode) ||
			     (p->opcode == 0x09 && (p->cdw10 & 0xff) == FEAT_HMB)))
				continue;
			c->want = predict_passthru(c);
			if (c->want)
				break;
			x = xfer_bound(c->io, p);
			if (x < 0) {
				skipped_unmodelled++;
				if (!opt_destructive)
					continue;
				break;
			}
			c->xfer = x;
			if ((u64)x > covered(p->addr, p->data_len)) {
				regenerated++;
				continue;
			}
			if (c->io && ranges_from_prp_list(p, x)) {
				regenerated_prp++;
				continue;
			}
			if (writable && (p->opcode & 3) == 1)
				fill_safe_ranges((unsigned char *)(uintptr_t)
						 (p->addr & ~15ULL),
						 covered(p->addr, p->data_len) +
						 (p->addr & 15),
						 !(p->addr & 15));
			break;
		case K_SUBMIT:
			c->s.u.opcode = chance(85) ? submit_ops[below(4)] :
				(u8)rnd();
			c->s.u.nblocks = chance(80) ?
				below(tg.max_xfer >> tg.lbads) : (u16)rnd();
			c->s.u.slba = gen_slba(c->s.u.opcode != 0x02 &&
					       c->s.u.opcode != 0x05);
			if (chance(3))
				c->s.u.flags = (u8)rnd();
			if (chance(3))
				c->s.u.metadata = place_data(gen_ptr_class(false),
							     512, &writable);
			if (chance(10))
				c->s.u.control = (u16)rnd();
			if (chance(5)) {
				c->s.u.dsmgmt = (u32)rnd();
				c->s.u.reftag = (u32)rnd();
				c->s.u.apptag = (u16)rnd();
				c->s.u.appmask = (u16)rnd();
				c->s.u.rsvd = (u16)rnd();
			}
			c->data_len = ((u32)c->s.u.nblocks + 1) << tg.lbads;
			c->s.u.addr = place_data(c->dptr, c->data_len, &writable);
			c->opcode = c->s.u.opcode;
			c->addr = c->s.u.addr;
			c->nsid = tg.ns_nsid;
			c->io = true;
			c->want = c->on_ns ? predict_submit(c) : -ENOTTY;
			break;
		case K_RESET: case K_SUBSYS_RESET:
			if (!opt_destructive && !opt_unpriv)
				continue;
			break;
		default:
			break;
		}
		break;
	}
	if (tries == 200)
		return false;
	return true;
}

/* ---- issuing a call ------------------------------------------------------ */

static unsigned long kind_req(enum ioc_kind k, size_t *size)
{
	switch (k) {
	case K_ADMIN:
		*size = sizeof(struct nvme_passthru_cmd);
		return NVME_IOCTL_ADMIN_CMD;
	case K_ADMIN64:
		*size = sizeof(struct nvme_passthru_cmd64);
		return NVME_IOCTL_ADMIN64_CMD;
	case K_IO:
		*size = sizeof(struct nvme_passthru_cmd);
		return NVME_IOCTL_IO_CMD;
	case K_IO64:
		*size = sizeof(struct nvme_passthru_cmd64);
		return _IOWR('N', NVME_IOCTL_IO64_CMD_NR,
			     struct nvme_passthru_cmd64);
	case K_SUBMIT:
		*size = sizeof(struct nvme_user_io);
		return NVME_IOCTL_SUBMIT_IO;
	case K_ID:
		*size = 0;
		return NVME_IOCTL_ID;
	case K_RESCAN:
		*size = 0;
		return NVME_IOCTL_RESCAN;
	case K_RESET:
		*size = 0;
		return NVME_IOCTL_RESET;
	case K_SUBSYS_RESET:
		*size = 0;
		return NVME_IOCTL_SUBSYS_RESET;
	default:
		*size = 0;
		return _IOWR('N', NVME_IOCTL_IO64_VEC_NR,
			     struct nvme_passthru_cmd64);
	}
}

/* the legacy 32-bit structure: the same fields up to timeout_ms */
static void to_legacy(struct call *c)
{
	struct nvme_passthru_cmd64 p64 = c->s.p64;

	memset(&c->s.p, 0, sizeof(c->s.p));
	memcpy(&c->s.p, &p64, offsetof(struct nvme_passthru_cmd, result));
}

static void *place_struct(struct call *c)
{
	switch (c->sptr) {
	case P_NULL:
		return NULL;
	case P_LOW:
		return (void *)(uintptr_t)(PAGE * 3 + 8);
	case P_UNMAPPED:
		return hole + below(DATA_SIZE - 128);
	case P_KERNEL:
		return (void *)(uintptr_t)0xffff888000001000ULL;
	case P_RO:
		mprotect(cmd_ro, PAGE, PROT_READ | PROT_WRITE);
		memcpy(cmd_ro + 64, &c->s, c->ssize);
		mprotect(cmd_ro, PAGE, PROT_READ);
		return cmd_ro + 64;
	case P_GUARD:	/* the structure runs into the guard page */
		memcpy(cmd_edge + PAGE - 16, &c->s, 16);
		return cmd_edge + PAGE - 16;
	default:
		memcpy(cmd_page, &c->s, c->ssize);
		return cmd_page;
	}
}

static bool struct_readable(int cls)
{
	return cls == P_VALID || cls == P_UNALIGNED || cls == P_RO;
}

static void print_call(FILE *f, const struct call *c, const char *what)
{
	fprintf(f, "%s call %lu: %s on %s op 0x%02x nsid 0x%x len %u addr 0x%llx",
		what, c->idx, kind_names[c->kind], c->on_ns ? "ns" : "ctrl",
		c->opcode, c->nsid, c->data_len, (unsigned long long)c->addr);
	fprintf(f, " (%s) struct %s xfer %lld timeout %s", ptr_names[c->dptr],
		ptr_names[c->sptr], (long long)c->xfer,
		c->short_timeout ? "short" : "-");
	if (c->kind <= K_IO64)
		fprintf(f, " flags 0x%x cdw10 0x%x cdw11 0x%x cdw12 0x%x md %u",
			c->s.p64.flags, c->s.p64.cdw10, c->s.p64.cdw11,
			c->s.p64.cdw12, c->s.p64.metadata_len);
	else if (c->kind == K_SUBMIT)
		fprintf(f, " nblocks %u slba 0x%llx flags 0x%x",
			c->s.u.nblocks, (unsigned long long)c->s.u.slba,
			c->s.u.flags);
	fprintf(f, "\n");
}

/* predict the whole answer: errno (>0), or 0 for "reaches the controller" */
static void predict(struct call *c)
{
	bool pass = c->kind <= K_SUBMIT;

	c->want_ret = 0;
	if (c->kind == K_UNKNOWN) {
		c->want = -ENOTTY;
		return;
	}
	if (c->kind == K_ID) {
		c->want = c->on_ns ? 0 : -ENOTTY;
		c->want_ret = tg.ns_nsid;
		return;
	}
	if (c->kind == K_SUBMIT && !c->on_ns) {
		c->want = -ENOTTY;
		return;
	}
	if (opt_unpriv) {
		c->want = -EACCES;
		return;
	}
	if (c->kind == K_SUBSYS_RESET) {
		c->want = WANT_0_OR_ENOTTY;
		return;
	}
	if (!pass)
		return;
	if (!struct_readable(c->sptr))
		c->want = -EFAULT;
	/* else keep the errno gen_call predicted from the fields */
}

static void account(const struct call *c, long ret, int err)
{
	struct tally *t = &tal[c->kind];
	bool bad = false;

	t->calls++;
	dptr_seen[c->dptr]++;
	sptr_seen[c->sptr]++;
	if (ret < 0) {
		t->err[err < ERRNO_MAX ? err : 0]++;
		if (c->want < 0)
			bad = err != -c->want;
		else if (c->want == WANT_0_OR_ENOTTY)
			bad = err != ENOTTY;
		else if (err == EFAULT && c->sptr == P_RO && c->kind <= K_IO64)
			bad = false;	/* ran, then could not write the result */
		else
			bad = !(err == ENOMEM ||
				(err == ETIMEDOUT && c->short_timeout));
	} else {
		if (ret == 0 || c->kind == K_ID)
			t->ok++;
		else
			t->status++;
		if (ret > 0 && c->kind != K_ID)
			statuses[ret & 0x7ff]++;
		if (c->kind <= K_SUBMIT)
			count_opst(c->io, c->opcode, ret & 0x7ff);
		if (c->kind == K_ID)
			bad = ret != c->want_ret || c->want;
		else if (c->want < 0)
			bad = true;
		else if (c->sptr == P_RO && c->kind <= K_IO64)
			bad = true;	/* put_user to a read-only page succeeded */
		else if (c->kind >= K_RESCAN && ret)
			bad = true;
	}
	if (bad) {
		t->unexpected++;
		print_call(stdout, c, "UNEXPECTED");
		if (ret < 0)
			printf("  got errno %d (%s), want %s%s\n", err,
			       strerror(err),
			       c->want < 0 ? strerror(-c->want) : "a completion",
			       c->want < 0 ? "" : " (status or 0)");
		else
			printf("  got %ld, want %s\n", ret,
			       c->want < 0 ? strerror(-c->want) : "another value");
		fflush(stdout);
	} else if (opt_verbose) {
		print_call(stdout, c, "ok");
		printf("  -> %ld errno %d\n", ret, ret < 0 ? err : 0);
	}
}

static void issue(struct call *c)
{
	int fd = c->on_ns ? tg.ns_fd : tg.ctrl_fd;
	void *arg = NULL;
	long ret;
	int err;

	c->req = kind_req(c->kind, &c->ssize);
	if (c->kind == K_ADMIN || c->kind == K_IO)
		to_legacy(c);
	predict(c);
	if (c->ssize)
		arg = place_struct(c);
	if (opt_verbose) {
		print_call(stdout, c, "send");
		fflush(stdout);
	}
	ret = ioctl(fd, c->req, arg);
	err = errno;
	account(c, ret, err);
}

/* ---- report ---------------------------------------------------------------- */

static unsigned long total_unexpected(void)
{
	unsigned long n = 0;
	int k;

	for (k = 0; k < K_NR; k++)
		n += tal[k].unexpected;
	return n;
}

static void report(double secs, unsigned long sent)
{
	int k, e, i;

	printf("%-14s %8s %8s %8s", "outcome", "admin", "io", "other");
	printf("\n");
	for (i = -3; i < ERRNO_MAX; i++) {
		unsigned long col[3] = { 0, 0, 0 };
		char name[32];

		for (k = 0; k < K_NR; k++) {
			unsigned long v = i == -3 ? tal[k].calls :
				i == -2 ? tal[k].ok :
				i == -1 ? tal[k].status : tal[k].err[i];
			int ci = k <= K_ADMIN64 ? 0 : k <= K_SUBMIT ? 1 : 2;

			col[ci] += v;
		}
		if (i >= 0 && !(col[0] | col[1] | col[2]))
			continue;
		if (i == -3)
			snprintf(name, sizeof(name), "calls");
		else if (i == -2)
			snprintf(name, sizeof(name), "success");
		else if (i == -1)
			snprintf(name, sizeof(name), "nvme-status");
		else
			snprintf(name, sizeof(name), "%s",
				 strerrorname_np(i) ?: "errno?");
		printf("%-14s %8lu %8lu %8lu\n", name, col[0], col[1], col[2]);
	}
	printf("nvme statuses:");
	for (e = 1; e < 0x800; e++)
		if (statuses[e])
			printf(" 0x%03x:%lu", e, statuses[e]);
	printf("\ncompletions by opcode (status:count):");
	for (k = 0; k < 2; k++) {
		unsigned long inval = 0, ninval = 0;

		for (e = 0; e < 256; e++) {
			bool any = false, other = false;
			unsigned long n = 0;

			for (i = 0; i < (int)nopst; i++) {
				if (opst[i].io != k || opst[i].opcode != e)
					continue;
				if (opst[i].status != 0x001)
					other = true;
				n += opst[i].n;
			}
			if (n && !other) {	/* only "invalid opcode" */
				inval += n;
				ninval++;
				continue;
			}
			for (i = 0; i < (int)nopst; i++) {
				if (opst[i].io != k || opst[i].opcode != e)
					continue;
				if (!any)
					printf("\n  %s 0x%02x:", k ? "io" : "admin", e);
				any = true;
				printf(" 0x%03x:%lu", opst[i].status, opst[i].n);
			}
		}
		if (ninval)
			printf("\n  %s: %lu more opcodes, invalid opcode (0x001) each: %lu calls",
			       k ? "io" : "admin", ninval, inval);
	}
	printf("\ndata pointers:");
	for (i = 0; i < P_NR; i++)
		printf(" %s:%lu", ptr_names[i], dptr_seen[i]);
	printf("\nstruct pointers:");
	for (i = 0; i < P_NR; i++)
		printf(" %s:%lu", ptr_names[i], sptr_seen[i]);
	printf("\nregenerated (buffer short of the transfer): %lu, unmodelled: %lu\n",
	       regenerated, skipped_unmodelled);
	printf("regenerated (LBA ranges the controller would read from the PRP list): %lu\n",
	       regenerated_prp);
	printf("calls %lu in %.1f s (%.0f/s), unexpected %lu\n", sent, secs,
	       secs > 0 ? sent / secs : 0.0, total_unexpected());
}

/* ---- privilege drop --------------------------------------------------------- */

static int drop_privileges(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[2];

	if (setgroups(0, NULL) || setgid(UNPRIV_ID) || setuid(UNPRIV_ID)) {
		perror("dropping privileges");
		return -1;
	}
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data)) {
		perror("capget");
		return -1;
	}
	if (data[0].effective || data[1].effective || data[0].permitted ||
	    data[1].permitted) {
		fprintf(stderr, "capabilities left after the drop: %08x %08x\n",
			data[0].effective, data[1].effective);
		return -1;
	}
	if (!setuid(0)) {
		fprintf(stderr, "setuid(0) succeeded after the drop\n");
		return -1;
	}
	printf("running as uid %d gid %d, no capabilities\n", getuid(), getgid());
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

static void print_help(void)
{
	printf("Usage: nvme-passthru-fuzz [--seed N] [--count N] [--first K] [--ctrl DEV]\n"
	       "       [--ns DEV] [--path mixed|admin|io] [--protect LBA] [--max-xfer BYTES]\n"
	       "       [--unpriv] [--destructive] [--short-timeouts PERMILLE] [--verbose]\n"
	       "Random NVMe passthrough ioctls; exit 0 only if every outcome was expected,\n"
	       "Identify Controller still matches and pinned pages balance.\n");
}

static int run(u64 seed, unsigned long first, unsigned long count)
{
	struct timespec t0, t1;
	unsigned long i, sent = 0;
	struct call c;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = first; i < first + count; i++) {
		if (!gen_call(&c, i, seed))
			continue;
		issue(&c);
		sent++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	check_hole();
	report((double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9, sent);
	return total_unexpected() ? 1 : 0;
}

static int after_checks(long long pins0, unsigned long long acq0,
			bool have_pins)
{
	unsigned char id[4096];
	unsigned long long acq1;
	long long pins1;
	int ret, bad = 0, i, first = -1, ndiff = 0;

	ret = identify(1, 0, id);
	if (ret) {
		printf("FAIL: Identify Controller after the run: %d (%s)\n", ret,
		       ret < 0 ? strerror(errno) : "NVMe status");
		bad = 1;
	} else {
		for (i = 0; i < 4096; i++) {
			if (id[i] != tg.id_ctrl[i]) {
				if (first < 0)
					first = i;
				ndiff++;
			}
		}
		if (ndiff) {
			printf("FAIL: Identify Controller differs from the start");
			printf(" in %d byte(s), first at %d\n", ndiff, first);
			bad = 1;
		} else {
			printf("identify: Identify Controller unchanged\n");
		}
	}
	if (have_pins && pins_held(&pins1, &acq1)) {
		if (pins1 != pins0) {
			printf("FAIL: pinned pages: %lld held before, %lld after",
			       pins0, pins1);
			printf(" (%llu pinned meanwhile)\n", acq1 - acq0);
			bad = 1;
		} else {
			printf("pins: balanced, %llu pinned and released",
			       acq1 - acq0);
			printf(" (%lld held before and after)\n", pins0);
		}
	} else {
		printf("pins: /proc/vmstat has no nr_foll_pin_* counters, not checked\n");
	}
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "first", required_argument, NULL, 'f' },
		{ "ctrl", required_argument, NULL, 'c' },
		{ "ns", required_argument, NULL, 'N' },
		{ "path", required_argument, NULL, 'p' },
		{ "protect", required_argument, NULL, 'P' },
		{ "max-xfer", required_argument, NULL, 'm' },
		{ "unpriv", no_argument, NULL, 'u' },
		{ "destructive", no_argument, NULL, 'D' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "short-timeouts", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	u64 seed = (u64)time(NULL) ^ ((u64)getpid() << 32);
	unsigned long count = 1000, first = 0;
	const char *ctrl = NULL, *ns = NULL;
	unsigned long long acq0 = 0;
	bool have_pins;
	long long pins0 = 0;
	int o, status, rc;
	pid_t pid;

	tg.ctrl_fd = -1;
	tg.ns_fd = -1;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			count = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			first = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			ctrl = optarg;
			break;
		case 'N':
			ns = optarg;
			break;
		case 'p':
			opt_path = !strcmp(optarg, "admin") ? 1 :
				!strcmp(optarg, "io") ? 2 : 0;
			if (opt_path == 0 && strcmp(optarg, "mixed"))
				die("--path: %s is not mixed, admin or io", optarg);
			break;
		case 'P':
			tg.protect_end = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			tg.max_xfer = strtoul(optarg, NULL, 0);
			break;
		case 'u':
			opt_unpriv = true;
			break;
		case 'D':
			opt_destructive = true;
			break;
		case 'v':
			opt_verbose = true;
			break;
		case 't':
			opt_short_permille = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			print_help();
			return 0;
		default:
			print_help();
			return 2;
		}
	}
	printf("seed %llu\n", (unsigned long long)seed);
	fflush(stdout);
	if (!ctrl && !ns)
		die("%s", "give --ctrl and/or --ns");
	if (ctrl) {
		tg.ctrl_fd = open(ctrl, O_RDWR);
		if (tg.ctrl_fd < 0)
			die("cannot open the controller: %s", strerror(errno));
	}
	if (ns) {
		tg.ns_fd = open(ns, O_RDWR);
		if (tg.ns_fd < 0)
			die("cannot open the namespace: %s", strerror(errno));
		rc = ioctl(tg.ns_fd, NVME_IOCTL_ID);
		if (rc <= 0)
			die("NVME_IOCTL_ID on the namespace failed: %s",
			    strerror(errno));
		tg.ns_nsid = rc;
		if (!tg.max_xfer)
			tg.max_xfer = sysfs_max_xfer(ns);
	}
	setup_memory();
	if (setup_target())
		return 2;
	printf("target: nsid %u, %llu blocks of %u bytes, writes from LBA %llu,",
	       tg.ns_nsid, (unsigned long long)tg.nsze, 1u << tg.lbads,
	       (unsigned long long)tg.protect_end);
	printf(" MDTS %u bytes, driver limit %u bytes, effects log %s, %u active namespace(s)\n",
	       tg.mdts_bytes, tg.max_xfer, tg.have_effects ? "read" : "missing",
	       tg.nactive);
	if (tg.protect_end >= tg.nsze)
		die("%s", "--protect covers the whole namespace");
	printf("calls %lu..%lu, path %s, %s%s\n", first, first + count - 1,
	       opt_path == 1 ? "admin" : opt_path == 2 ? "io" : "mixed",
	       opt_unpriv ? "unprivileged" : "root",
	       opt_destructive ? ", destructive commands included" : "");
	fflush(stdout);
	have_pins = pins_held(&pins0, &acq0);
	if (!opt_unpriv) {
		rc = run(seed, first, count);
	} else {
		pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (!pid) {
			rc = drop_privileges() ? 2 : run(seed, first, count);
			fflush(stdout);
			_exit(rc);
		}
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid: %s", strerror(errno));
		rc = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
	}
	rc |= after_checks(pins0, acq0, have_pins);
	printf("RESULT %s\n", rc ? "FAIL" : "PASS");
	return rc ? 1 : 0;
}
