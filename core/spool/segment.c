/* segment.c - see segment.h. */
#include "segment.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)

void inlet_spool_segment_name(char *out, size_t cap, uint64_t first_seq)
{
    snprintf(out, cap, "%020" PRIu64 ".seg", first_seq);
}

int inlet_spool_segment_name_parse(const char *name, uint64_t *first_seq)
{
    if (strlen(name) != 24 || strcmp(name + 20, ".seg") != 0)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *first_seq = v;
    return 0;
}

int inlet_spool_segment_create(int dirfd, uint64_t first_seq)
{
    char name[32];
    uint8_t hdr[INLET_SPOOL_HEADER_LEN];
    inlet_spool_segment_name(name, sizeof(name), first_seq);
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    inlet_spool_segment_header(hdr, first_seq);
    if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || fdatasync(fd) != 0 ||
        fsync(dirfd) != 0) {
        int e = errno ? errno : EIO;
        close(fd);
        unlinkat(dirfd, name, 0);
        errno = e;
        return -1;
    }
    return fd;
}

int inlet_seg_reader_open(inlet_seg_reader *r, int dirfd, uint64_t first_seq)
{
    char name[32];
    uint8_t hdr[INLET_SPOOL_HEADER_LEN];
    uint64_t seq;
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    inlet_spool_segment_name(name, sizeof(name), first_seq);
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, hdr, sizeof(hdr), 0);
    if (n != (ssize_t)sizeof(hdr) ||
        inlet_spool_segment_header_parse(hdr, sizeof(hdr), &seq) != 0 || seq != first_seq) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    r->fd = fd;
    r->first_seq = first_seq;
    r->seq = first_seq;
    r->off = INLET_SPOOL_HEADER_LEN;
    r->buf_off = r->off;
    return 0;
}

void inlet_seg_reader_seek(inlet_seg_reader *r, off_t off, uint64_t seq)
{
    r->off = off;
    r->seq = seq;
    r->buf_len = 0;
    r->buf_off = off;
}

/* Read from r->off on into the buffer, at least want bytes of room; bytes now buffered from
 * r->off, or -1. */
static ssize_t refill(inlet_seg_reader *r, size_t want)
{
    size_t need = want > READ_CHUNK ? want : READ_CHUNK;
    if (r->buf_cap < need) {
        uint8_t *nb = realloc(r->buf, need);
        if (!nb)
            return -1;
        r->buf = nb;
        r->buf_cap = need;
    }
    r->buf_off = r->off;
    r->buf_len = 0;
    while (r->buf_len < r->buf_cap) {
        ssize_t n = pread(r->fd, r->buf + r->buf_len, r->buf_cap - r->buf_len,
                          r->buf_off + (off_t)r->buf_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        r->buf_len += (size_t)n;
    }
    return (ssize_t)r->buf_len;
}

inlet_seg_status inlet_seg_reader_next(inlet_seg_reader *r, inlet_spool_record *rec, off_t *rec_off,
                                       size_t *rec_len)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t have = 0;
        if (r->off >= r->buf_off && r->off < r->buf_off + (off_t)r->buf_len)
            have = r->buf_len - (size_t)(r->off - r->buf_off);
        const uint8_t *p = r->buf ? r->buf + (r->off - r->buf_off) : NULL;
        size_t used = 0;
        inlet_spool_rec_status st =
            have ? inlet_spool_record_decode(p, have, rec, &used) : INLET_SPOOL_REC_SHORT;
        if (st == INLET_SPOOL_REC_OK) {
            *rec_off = r->off;
            *rec_len = used;
            r->off += (off_t)used;
            r->seq++;
            return INLET_SEG_RECORD;
        }
        if (st == INLET_SPOOL_REC_BAD)
            return INLET_SEG_BAD;
        /* short: read more (the whole record, if its length is known) and try again */
        size_t want = READ_CHUNK;
        if (have >= 4) {
            uint32_t body =
                (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
            want = INLET_SPOOL_FRAME_LEN + (size_t)body;
        }
        ssize_t got = refill(r, want);
        if (got < 0)
            return INLET_SEG_IOERR;
        if (got == 0)
            return INLET_SEG_END;
        if ((size_t)got < want && (size_t)got <= have)
            return INLET_SEG_TORN; /* nothing more in the file */
    }
    return INLET_SEG_TORN;
}

void inlet_seg_reader_close(inlet_seg_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    free(r->buf);
    memset(r, 0, sizeof(*r));
    r->fd = -1;
}
