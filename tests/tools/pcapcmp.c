/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pcapcmp: compare two capture files packet by packet, ignoring timestamps.
 *
 *   pcapcmp A.pcap B.pcap   "identical: N packets" and exit 0, or the first
 *                           difference and exit 1
 *   pcapcmp --count F.pcap  print the number of packets
 *
 * Exit status 2: usage or read error.
 */
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

static pcap_t *open_or_die(const char *path)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (!p)
		fprintf(stderr, "pcapcmp: %s: %s\n", path, errbuf);
	return p;
}

/* Next packet: 1, 0 at the end of the file, -1 on a read error (reported). */
static int next(pcap_t *p, const char *path, struct pcap_pkthdr **h, const u_char **data)
{
	int rc = pcap_next_ex(p, h, data);

	if (rc == 1)
		return 1;
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	fprintf(stderr, "pcapcmp: %s: %s\n", path, pcap_geterr(p));
	return -1;
}

static int count(const char *path)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long n = 0;
	pcap_t *p = open_or_die(path);
	int rc;

	if (!p)
		return 2;
	while ((rc = next(p, path, &h, &data)) == 1)
		n++;
	pcap_close(p);
	if (rc < 0)
		return 2;
	printf("%llu\n", n);
	return 0;
}

static int compare(const char *pa, const char *pb)
{
	pcap_t *a = open_or_die(pa), *b = a ? open_or_die(pb) : NULL;
	unsigned long long n = 0;
	int ret = 0;

	if (!a || !b) {
		if (a)
			pcap_close(a);
		return 2;
	}
	if (pcap_datalink(a) != pcap_datalink(b)) {
		printf("link types differ: %d vs %d\n", pcap_datalink(a), pcap_datalink(b));
		ret = 1;
		goto out;
	}
	for (;;) {
		struct pcap_pkthdr *ha, *hb;
		const u_char *da, *db;
		int ra = next(a, pa, &ha, &da), rb = ra < 0 ? 0 : next(b, pb, &hb, &db);

		if (ra < 0 || rb < 0) {
			ret = 2;
			break;
		}
		if (!ra && !rb) {
			printf("identical: %llu packets\n", n);
			break;
		}
		n++; /* packets are numbered from 1, like tshark's frame.number */
		ret = 1;
		if (!ra || !rb) {
			printf("packet %llu: only in %s (%s has %llu packets)\n", n, ra ? pa : pb,
			       ra ? pb : pa, n - 1);
			break;
		}
		if (ha->caplen != hb->caplen) {
			printf("packet %llu: length differs: %u vs %u\n", n, ha->caplen,
			       hb->caplen);
			break;
		}
		if (ha->len != hb->len) {
			printf("packet %llu: wire length differs: %u vs %u\n", n, ha->len, hb->len);
			break;
		}
		if (memcmp(da, db, ha->caplen) != 0) {
			uint32_t i = 0;

			while (da[i] == db[i])
				i++;
			printf("packet %llu: byte %u differs: 0x%02x vs 0x%02x\n", n, i, da[i],
			       db[i]);
			break;
		}
		ret = 0;
	}
out:
	pcap_close(a);
	pcap_close(b);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--count") == 0)
		return count(argv[2]);
	if (argc == 3 && (argv[1][0] != '-' || argv[1][1] == '\0'))
		return compare(argv[1], argv[2]);
	fprintf(stderr, "usage: pcapcmp A.pcap B.pcap\n       pcapcmp --count F.pcap\n");
	return 2;
}
