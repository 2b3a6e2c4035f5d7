/*
 * segment.h - segment files of the spool journal: names, creation, and a buffered reader that
 * yields the records of one segment in order (recovery scan and forwarder).
 */
#ifndef INLET_SPOOL_SEGMENT_H
#define INLET_SPOOL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "record.h"

/* "<first_seq, 20 digits>.seg" into out (at least 32 bytes). */
void inlet_spool_segment_name(char *out, size_t cap, uint64_t first_seq);
/* 0 and *first_seq when name is a segment file name. */
int inlet_spool_segment_name_parse(const char *name, uint64_t *first_seq);
/* Create (O_EXCL) and write the header of segment first_seq in dirfd; the fd open for append,
 * or -1 with errno. The file and the directory entry are fsynced. */
int inlet_spool_segment_create(int dirfd, uint64_t first_seq);

typedef enum {
    INLET_SEG_RECORD = 0, /* *rec is the next record */
    INLET_SEG_END = 1,    /* clean end of the file */
    INLET_SEG_TORN = 2,   /* a partial record at the end of the file */
    INLET_SEG_BAD = 3,    /* CRC or structure error */
    INLET_SEG_IOERR = 4
} inlet_seg_status;

typedef struct inlet_seg_reader {
    int fd;
    uint64_t first_seq;
    uint64_t seq; /* sequence number of the next record */
    off_t off;    /* file offset of the next record */
    uint8_t *buf; /* bytes of the file from buf_off */
    size_t buf_len, buf_cap;
    off_t buf_off;
} inlet_seg_reader;

/* Open segment first_seq of dirfd and check its header; -1 with errno (EINVAL: bad header). */
int inlet_seg_reader_open(inlet_seg_reader *r, int dirfd, uint64_t first_seq);
/* Move to a record boundary the reader returned before (off and seq of that record). */
void inlet_seg_reader_seek(inlet_seg_reader *r, off_t off, uint64_t seq);
/* The next record; rec's pointers are valid until the next call. *rec_off: where it starts. */
inlet_seg_status inlet_seg_reader_next(inlet_seg_reader *r, inlet_spool_record *rec, off_t *rec_off,
                                       size_t *rec_len);
void inlet_seg_reader_close(inlet_seg_reader *r);

#endif
