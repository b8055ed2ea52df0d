// SPDX-License-Identifier: GPL-2.0
/*
 * nvme-overlong: admin passthrough commands whose data_len claims more than
 * the controller moves.  Identify Controller (4 KiB) with data_len 12 KiB,
 * from a buffer 2 KiB into a page: the buffer spans 4 pages, so the driver
 * points PRP 2 at a PRP list; the controller, whose 4 KiB cross one page
 * boundary only, takes PRP 2 for a data page and writes its last 2 KiB
 * there.  A driver whose list shares a page with other requests' lists
 * (a small DMA pool) has them overwritten under I/O.
 *
 * Usage: nvme-overlong /dev/nvmeiovaN COUNT
 * Exit status 0 if every command succeeded.
 */
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define PAGE	4096

int main(int argc, char **argv)
{
	struct nvme_admin_cmd c;
	int fd, i, n, failed = 0;
	char *buf;

	if (argc != 3) {
		fprintf(stderr, "usage: %s /dev/nvmeiovaN COUNT\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	n = atoi(argv[2]);
	if (posix_memalign((void **)&buf, PAGE, 4 * PAGE))
		return 2;
	memset(buf, 0, 4 * PAGE);
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		c.opcode = 0x06;		/* Identify */
		c.cdw10 = 1;			/* CNS 01h: the controller */
		c.addr = (unsigned long)(buf + PAGE / 2);
		c.data_len = 3 * PAGE;
		if (ioctl(fd, NVME_IOCTL_ADMIN_CMD, &c) != 0)
			failed++;
	}
	printf("nvme-overlong: %d Identify commands, data_len %d at page offset %d: %d failed\n",
	       n, 3 * PAGE, PAGE / 2, failed);
	return failed ? 1 : 0;
}
