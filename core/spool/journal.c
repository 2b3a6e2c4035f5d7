/* journal.c - see journal.h. */
#include "journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "spool_clock.h"
#include "record.h"
#include "segment.h"

#define CHECKPOINT_NAME  "checkpoint"
#define CHECKPOINT_MAGIC "INLSPCK1"

typedef struct seg_info {
    uint64_t first_seq;
    uint64_t end_seq; /* one past its last record (the tail's grows) */
    uint64_t bytes;   /* file size */
} seg_info;

typedef struct waiter {
    uint64_t end_seq;
    size_t n_records;
    inlet_journal_done_fn done;
    void *arg;
    struct waiter *next;
} waiter;

struct inlet_journal {
    inlet_spool_settings s;
    inlet_spool_metrics *m;
    int dirfd, lockfd, wakefd;
    pthread_mutex_t mu;
    pthread_cond_t commit_cv, idle_cv;
    seg_info *segs; /* oldest first; the last is the write segment */
    size_t n_segs, cap_segs;
    int wfd;              /* the write segment, O_APPEND */
    int sync_busy_fd;     /* the fd the committer is fsyncing, or -1 */
    int close_after_sync; /* an old write fd to close once that fsync returned, or -1 */
    uint64_t next_seq;    /* seq of the next appended record */
    uint64_t disk_bytes;  /* sum of segs[].bytes */
    waiter *wait_head, *wait_tail;
    int committing;
    _Atomic uint64_t durable; /* records < durable are fsynced */
    uint64_t acked;           /* records < acked are in Kafka */
    uint64_t ckpt_written;
    uint64_t backlog_events, backlog_bytes;
    atomic_llong oldest_us; /* oldest unforwarded record, from the forwarder; 0 = none */
    int broken, stop, started, over_age;
    pthread_t committer;
};

static void publish_gauges(inlet_journal *j)
{
    inlet_metric_set(j->m->backlog_events, (int64_t)j->backlog_events);
    inlet_metric_set(j->m->backlog_bytes, (int64_t)j->backlog_bytes);
    inlet_metric_set(j->m->disk_bytes, (int64_t)j->disk_bytes);
    inlet_metric_set(j->m->segments, (int64_t)j->n_segs);
}

static int segs_push(inlet_journal *j, uint64_t first, uint64_t end, uint64_t bytes)
{
    if (j->n_segs == j->cap_segs) {
        size_t cap = j->cap_segs ? j->cap_segs * 2 : 16;
        seg_info *n = realloc(j->segs, cap * sizeof(*n));
        if (!n)
            return -1;
        j->segs = n;
        j->cap_segs = cap;
    }
    j->segs[j->n_segs++] = (seg_info){first, end, bytes};
    j->disk_bytes += bytes;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- checkpoint ---- */

static uint64_t checkpoint_read(int dirfd)
{
    uint8_t b[20];
    int fd = openat(dirfd, CHECKPOINT_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, b, sizeof(b));
    close(fd);
    if (n != (ssize_t)sizeof(b) || memcmp(b, CHECKPOINT_MAGIC, 8) != 0)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)b[8 + i] << (8 * i);
    uint32_t crc =
        (uint32_t)b[16] | (uint32_t)b[17] << 8 | (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24;
    if (inlet_crc32c(0, b, 16) != crc) {
        inlet_logf(INLET_LOG_WARN, "spool",
                   "checkpoint damaged; forwarding from the oldest "
                   "segment (some events will be produced again)");
        return 0;
    }
    return v;
}

/* Write-then-rename, so a reader sees the old or the new checkpoint, never a mix. */
static void checkpoint_write(int dirfd, uint64_t seq)
{
    uint8_t b[20];
    memcpy(b, CHECKPOINT_MAGIC, 8);
    for (int i = 0; i < 8; i++)
        b[8 + i] = (uint8_t)(seq >> (8 * i));
    uint32_t crc = inlet_crc32c(0, b, 16);
    for (int i = 0; i < 4; i++)
        b[16 + i] = (uint8_t)(crc >> (8 * i));
    int fd = openat(dirfd, CHECKPOINT_NAME ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    ssize_t n = write(fd, b, sizeof(b));
    close(fd);
    if (n == (ssize_t)sizeof(b))
        renameat(dirfd, CHECKPOINT_NAME ".tmp", dirfd, CHECKPOINT_NAME);
}

/* ---- recovery ---- */

/* Scan one segment; cut a torn or damaged tail. Fills *info; records at or after ckpt are
 * added to the backlog. 0, or -1 with err when the file cannot be read or repaired. */
static int segment_recover(inlet_journal *j, uint64_t first, uint64_t ckpt, int is_last,
                           seg_info *info, char *err, size_t err_len)
{
    char name[32];
    inlet_seg_reader r;
    inlet_spool_segment_name(name, sizeof(name), first);
    if (inlet_seg_reader_open(&r, j->dirfd, first) != 0) {
        struct stat st;
        if (errno == EINVAL && fstatat(j->dirfd, name, &st, 0) == 0 &&
            st.st_size < INLET_SPOOL_HEADER_LEN) {
            /* created, then the power went before its header was on disk: it holds nothing */
            inlet_logf(INLET_LOG_WARN, "spool", "%s: empty segment without a header; removed",
                       name);
            unlinkat(j->dirfd, name, 0);
            info->bytes = 0;
            info->first_seq = info->end_seq = first;
            return 1;
        }
        snprintf(err, err_len, "spool segment %s: %s", name,
                 errno == EINVAL ? "not a spool segment (bad header)" : strerror(errno));
        return -1;
    }
    inlet_spool_record rec;
    off_t off = 0;
    size_t len = 0;
    inlet_seg_status st;
    while ((st = inlet_seg_reader_next(&r, &rec, &off, &len)) == INLET_SEG_RECORD) {
        if (r.seq - 1 >= ckpt) {
            j->backlog_events++;
            j->backlog_bytes += len;
        }
    }
    off_t valid = r.off;
    struct stat sb;
    if (st == INLET_SEG_IOERR || fstat(r.fd, &sb) != 0) {
        snprintf(err, err_len, "spool segment %s: read error: %s", name, strerror(errno));
        inlet_seg_reader_close(&r);
        return -1;
    }
    if (st == INLET_SEG_TORN || st == INLET_SEG_BAD || sb.st_size > valid) {
        uint64_t cut = (uint64_t)(sb.st_size - valid);
        /* A torn tail is what a power cut leaves in the last segment; damage in an earlier
         * one is a disk error, and the records after it cannot be framed any more. */
        inlet_logf(is_last ? INLET_LOG_WARN : INLET_LOG_ERROR, "spool",
                   "%s: %s after record %" PRIu64 " at byte %lld; truncating %" PRIu64
                   " bytes (the last whole record is kept)",
                   name, st == INLET_SEG_BAD ? "CRC or framing error" : "partial record",
                   r.seq - first, (long long)valid, cut);
        if (!is_last)
            inlet_metric_add(j->m->corrupt, 1);
        inlet_metric_add(j->m->truncated_bytes, (int64_t)cut);
        int wfd = openat(j->dirfd, name, O_WRONLY | O_CLOEXEC);
        if (wfd < 0 || ftruncate(wfd, valid) != 0 || fdatasync(wfd) != 0) {
            snprintf(err, err_len, "spool segment %s: cannot truncate: %s", name, strerror(errno));
            if (wfd >= 0)
                close(wfd);
            inlet_seg_reader_close(&r);
            return -1;
        }
        close(wfd);
    } else if (is_last) {
        /* what the crash left in the page cache but not on disk must be durable before it is
         * forwarded */
        int wfd = openat(j->dirfd, name, O_WRONLY | O_CLOEXEC);
        if (wfd >= 0) {
            if (fdatasync(wfd) != 0)
                inlet_logf(INLET_LOG_WARN, "spool", "%s: fdatasync: %s", name, strerror(errno));
            close(wfd);
        }
    }
    info->first_seq = first;
    info->end_seq = r.seq;
    info->bytes = (uint64_t)valid;
    inlet_seg_reader_close(&r);
    return 0;
}

static int recover(inlet_journal *j, char *err, size_t err_len)
{
    int dfd = dup(j->dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    uint64_t *firsts = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        snprintf(err, err_len, "spool directory %s: %s", j->s.dir, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        uint64_t f;
        if (inlet_spool_segment_name_parse(e->d_name, &f) != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nf = realloc(firsts, cap * sizeof(*nf));
            if (!nf)
                goto out;
            firsts = nf;
        }
        firsts[n++] = f;
    }
    if (n > 1)
        qsort(firsts, n, sizeof(*firsts), cmp_u64);

    uint64_t ckpt = checkpoint_read(j->dirfd);
    j->next_seq = ckpt;
    for (size_t i = 0; i < n; i++) {
        seg_info info;
        int r = segment_recover(j, firsts[i], ckpt, i + 1 == n, &info, err, err_len);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        if (j->n_segs && info.first_seq < j->segs[j->n_segs - 1].end_seq) {
            snprintf(err, err_len,
                     "spool segment %020" PRIu64 ".seg overlaps the one before it; the "
                     "directory holds files of another journal",
                     info.first_seq);
            goto out;
        }
        char name[32];
        inlet_spool_segment_name(name, sizeof(name), info.first_seq);
        if (info.end_seq <= ckpt || info.end_seq == info.first_seq) {
            unlinkat(j->dirfd, name, 0); /* all acknowledged, or empty */
            continue;
        }
        if (segs_push(j, info.first_seq, info.end_seq, info.bytes) != 0)
            goto out;
        if (info.end_seq > j->next_seq)
            j->next_seq = info.end_seq;
    }
    j->acked = ckpt;
    j->ckpt_written = ckpt;
    if (j->n_segs)
        inlet_logf(INLET_LOG_INFO, "spool",
                   "recovered %s: %" PRIu64 " events (%" PRIu64 " bytes) not yet acknowledged "
                   "by Kafka in %zu segments; forwarding them",
                   j->s.dir, j->backlog_events, j->backlog_bytes, j->n_segs);
    rc = 0;
out:
    if (rc != 0 && !err[0])
        snprintf(err, err_len, "spool directory %s: out of memory", j->s.dir);
    free(firsts);
    closedir(d);
    return rc;
}

/* Start a new write segment at next_seq; under mu (or before threads exist). The old write
 * segment is fsynced first, so every record appended before stays covered. */
static int rotate(inlet_journal *j)
{
    if (j->wfd >= 0) {
        if (fdatasync(j->wfd) != 0)
            return -1;
        if (j->wfd == j->sync_busy_fd)
            j->close_after_sync = j->wfd;
        else
            close(j->wfd);
        j->wfd = -1;
        /* an empty old write segment is deleted by the next acked() */
    }
    int fd = inlet_spool_segment_create(j->dirfd, j->next_seq);
    if (fd < 0)
        return -1;
    if (segs_push(j, j->next_seq, j->next_seq, INLET_SPOOL_HEADER_LEN) != 0) {
        close(fd);
        errno = ENOMEM;
        return -1;
    }
    j->wfd = fd;
    publish_gauges(j);
    return 0;
}

int inlet_journal_open(const inlet_spool_settings *s, inlet_spool_metrics *metrics,
                       inlet_journal **out, char *err, size_t err_len)
{
    inlet_journal *j = calloc(1, sizeof(*j));
    err[0] = '\0';
    if (!j) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    j->s = *s;
    j->m = metrics;
    j->dirfd = j->lockfd = j->wakefd = j->wfd = -1;
    j->sync_busy_fd = j->close_after_sync = -1;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->commit_cv, NULL);
    pthread_cond_init(&j->idle_cv, NULL);
    if (s->max_bytes < 2 * s->segment_size) {
        snprintf(err, err_len,
                 "spool.max_bytes (%" PRIu64 ") must be at least twice spool.segment_size (%" PRIu64
                 ")",
                 s->max_bytes, s->segment_size);
        goto fail;
    }
    if (mkdir(s->dir, 0700) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "spool.dir %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    j->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (j->dirfd < 0) {
        snprintf(err, err_len, "spool.dir %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    j->lockfd = openat(j->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (j->lockfd < 0 || flock(j->lockfd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, err_len, "spool.dir %s: %s", s->dir,
                 errno == EWOULDBLOCK ? "in use by another inletd" : strerror(errno));
        goto fail;
    }
    j->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (j->wakefd < 0) {
        snprintf(err, err_len, "eventfd: %s", strerror(errno));
        goto fail;
    }
    if (recover(j, err, err_len) != 0)
        goto fail;
    if (rotate(j) != 0) {
        snprintf(err, err_len, "spool.dir %s: cannot create a segment: %s", s->dir,
                 strerror(errno));
        goto fail;
    }
    atomic_store(&j->durable, j->next_seq);
    publish_gauges(j);
    *out = j;
    return 0;
fail:
    inlet_journal_free(j);
    return -1;
}

static void complete(waiter *w, int ok)
{
    while (w) {
        waiter *next = w->next;
        w->done(w->arg, ok);
        free(w);
        w = next;
    }
}

static void *committer_main(void *arg)
{
    inlet_journal *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->wait_head && !j->stop)
            pthread_cond_wait(&j->commit_cv, &j->mu);
        if (!j->wait_head && j->stop)
            break;
        if (j->s.commit_delay_ms > 0 && !j->stop) {
            pthread_mutex_unlock(&j->mu);
            struct timespec d = {0, (long)j->s.commit_delay_ms * 1000000L};
            nanosleep(&d, NULL);
            pthread_mutex_lock(&j->mu);
        }
        /* Group commit: every append waiting now is covered by one fdatasync. Appends to
         * earlier segments were covered by rotate()'s fdatasync. */
        waiter *list = j->wait_head;
        size_t n_events = 0;
        for (waiter *w = list; w; w = w->next)
            n_events += w->n_records;
        j->wait_head = j->wait_tail = NULL;
        uint64_t target = j->next_seq;
        int fd = j->wfd;
        j->sync_busy_fd = fd;
        j->committing = 1;
        pthread_mutex_unlock(&j->mu);

        int64_t t0 = spool_mono_us();
        int rc = fdatasync(fd);
        int e = errno;
        inlet_spool_metrics_fsync(j->m, spool_mono_us() - t0, n_events);

        pthread_mutex_lock(&j->mu);
        j->sync_busy_fd = -1;
        j->committing = 0;
        if (j->close_after_sync == fd) {
            close(fd);
            j->close_after_sync = -1;
        }
        if (rc != 0) {
            /* After a failed fsync the kernel may have dropped the dirty pages: nothing
             * written since the last good fsync can be trusted (fsyncgate). Stop accepting. */
            if (!j->broken)
                inlet_logf(INLET_LOG_ERROR, "spool",
                           "fdatasync of the spool failed (%s); refusing spooled events from "
                           "now on (restart inletd after fixing the disk)",
                           strerror(e));
            j->broken = 1;
        } else if (target > atomic_load(&j->durable)) {
            atomic_store(&j->durable, target);
        }
        pthread_cond_broadcast(&j->idle_cv);
        pthread_mutex_unlock(&j->mu);
        if (rc == 0) {
            inlet_metric_add(j->m->appended, (int64_t)n_events);
            uint64_t one = 1;
            ssize_t wr = write(j->wakefd, &one, sizeof(one));
            (void)wr;
        }
        complete(list, rc == 0);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int inlet_journal_start(inlet_journal *j, char *err, size_t err_len)
{
    if (pthread_create(&j->committer, NULL, committer_main, j) != 0) {
        snprintf(err, err_len, "cannot start the spool committer thread");
        return -1;
    }
    j->started = 1;
    return 0;
}

static int aged(inlet_journal *j)
{
    int64_t oldest = atomic_load(&j->oldest_us);
    int over =
        j->s.max_age_ms > 0 && oldest > 0 && spool_wall_us() - oldest > j->s.max_age_ms * 1000;
    if (over != j->over_age) {
        j->over_age = over;
        inlet_metric_set(j->m->over_age, over);
        if (over)
            inlet_logf(INLET_LOG_ERROR, "spool",
                       "the oldest spooled event is older than spool.max_age (%lld ms) and Kafka "
                       "has not taken it%s",
                       (long long)j->s.max_age_ms,
                       j->s.on_max_age == INLET_SPOOL_AGE_REFUSE
                           ? "; refusing new spooled events until it is forwarded"
                           : "");
        else
            inlet_logf(INLET_LOG_INFO, "spool", "spool back within spool.max_age");
    }
    return over && j->s.on_max_age == INLET_SPOOL_AGE_REFUSE;
}

/* write() all of it at the end of the write segment; on failure cut back what was written. */
static int write_all(inlet_journal *j, const uint8_t *p, size_t len)
{
    uint64_t start = j->segs[j->n_segs - 1].bytes;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(j->wfd, p + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            if (ftruncate(j->wfd, (off_t)start) != 0) {
                inlet_logf(INLET_LOG_ERROR, "spool",
                           "cannot cut a failed write back (%s); refusing spooled events",
                           strerror(errno));
                j->broken = 1;
            }
            errno = e;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

inlet_journal_status inlet_journal_append(inlet_journal *j, const void *bytes, size_t len,
                                          size_t n_records, inlet_journal_done_fn done, void *arg,
                                          char *why, size_t why_len)
{
    waiter *w = malloc(sizeof(*w));
    inlet_journal_status st = INLET_JOURNAL_OK;
    if (!w) {
        snprintf(why, why_len, "out of memory; nothing was stored");
        return INLET_JOURNAL_BROKEN;
    }
    pthread_mutex_lock(&j->mu);
    if (j->stop) {
        st = INLET_JOURNAL_STOPPED;
        snprintf(why, why_len, "the spool is stopping; nothing was stored");
        goto out;
    }
    if (j->broken) {
        st = INLET_JOURNAL_BROKEN;
        snprintf(why, why_len, "the spool's disk failed; nothing was stored");
        inlet_metric_add(j->m->refused_io, 1);
        goto out;
    }
    if (aged(j)) {
        st = INLET_JOURNAL_AGED;
        snprintf(why, why_len,
                 "the spool holds events older than its max_age that Kafka has not taken; "
                 "nothing was stored");
        inlet_metric_add(j->m->refused_age, 1);
        goto out;
    }
    seg_info *tail = &j->segs[j->n_segs - 1];
    int need_rotate = tail->bytes > INLET_SPOOL_HEADER_LEN && tail->bytes + len > j->s.segment_size;
    if (j->disk_bytes + len + (need_rotate ? INLET_SPOOL_HEADER_LEN : 0) > j->s.max_bytes) {
        st = INLET_JOURNAL_FULL;
        snprintf(why, why_len,
                 "the spool is full (%" PRIu64 " of %" PRIu64 " bytes waiting for Kafka); "
                 "nothing was stored",
                 j->disk_bytes, j->s.max_bytes);
        inlet_metric_add(j->m->refused_full, 1);
        goto out;
    }
    if (need_rotate && rotate(j) != 0) {
        st = INLET_JOURNAL_BROKEN;
        snprintf(why, why_len, "the spool cannot start a segment (%s); nothing was stored",
                 strerror(errno));
        inlet_logf(INLET_LOG_ERROR, "spool", "cannot start a segment: %s", strerror(errno));
        inlet_metric_add(j->m->refused_io, 1);
        goto out;
    }
    if (write_all(j, bytes, len) != 0) {
        st = errno == ENOSPC ? INLET_JOURNAL_FULL : INLET_JOURNAL_BROKEN;
        snprintf(why, why_len, "the spool cannot write (%s); nothing was stored", strerror(errno));
        inlet_metric_add(st == INLET_JOURNAL_FULL ? j->m->refused_full : j->m->refused_io, 1);
        goto out;
    }
    tail = &j->segs[j->n_segs - 1];
    tail->bytes += len;
    j->disk_bytes += len;
    j->next_seq += n_records;
    tail->end_seq = j->next_seq;
    j->backlog_events += n_records;
    j->backlog_bytes += len;
    w->end_seq = j->next_seq;
    w->n_records = n_records;
    w->done = done;
    w->arg = arg;
    w->next = NULL;
    if (j->wait_tail)
        j->wait_tail->next = w;
    else
        j->wait_head = w;
    j->wait_tail = w;
    w = NULL;
    pthread_cond_signal(&j->commit_cv);
    publish_gauges(j);
out:
    pthread_mutex_unlock(&j->mu);
    free(w);
    return st;
}

uint64_t inlet_journal_durable(inlet_journal *j)
{
    return atomic_load(&j->durable);
}

int inlet_journal_wake_fd(inlet_journal *j)
{
    return j->wakefd;
}

int inlet_journal_dirfd(inlet_journal *j)
{
    return j->dirfd;
}

uint64_t inlet_journal_first_unacked(inlet_journal *j)
{
    pthread_mutex_lock(&j->mu);
    uint64_t s = j->acked;
    if (j->n_segs && j->segs[0].first_seq > s)
        s = j->segs[0].first_seq;
    pthread_mutex_unlock(&j->mu);
    return s;
}

int inlet_journal_segment_at(inlet_journal *j, uint64_t seq, uint64_t *first_seq)
{
    int rc = -1;
    pthread_mutex_lock(&j->mu);
    for (size_t i = 0; i < j->n_segs; i++) {
        int last = i + 1 == j->n_segs;
        if (j->segs[i].first_seq > seq || seq < j->segs[i].end_seq ||
            (last && seq == j->segs[i].end_seq)) {
            *first_seq = j->segs[i].first_seq;
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

void inlet_journal_acked(inlet_journal *j, uint64_t acked_seq, uint64_t n_records, uint64_t bytes,
                         int64_t oldest_us)
{
    atomic_store(&j->oldest_us, oldest_us);
    pthread_mutex_lock(&j->mu);
    if (acked_seq > j->acked)
        j->acked = acked_seq;
    j->backlog_events -= n_records < j->backlog_events ? n_records : j->backlog_events;
    j->backlog_bytes -= bytes < j->backlog_bytes ? bytes : j->backlog_bytes;
    /* every segment but the write segment whose records are all acknowledged goes */
    size_t drop = 0;
    while (drop + 1 < j->n_segs && j->segs[drop].end_seq <= j->acked)
        drop++;
    for (size_t i = 0; i < drop; i++) {
        char name[32];
        inlet_spool_segment_name(name, sizeof(name), j->segs[i].first_seq);
        if (unlinkat(j->dirfd, name, 0) != 0)
            inlet_logf(INLET_LOG_WARN, "spool", "cannot delete %s: %s", name, strerror(errno));
        j->disk_bytes -= j->segs[i].bytes;
    }
    if (drop) {
        memmove(j->segs, j->segs + drop, (j->n_segs - drop) * sizeof(*j->segs));
        j->n_segs -= drop;
    }
    uint64_t ck = j->acked;
    int write_ck = ck != j->ckpt_written;
    j->ckpt_written = ck;
    aged(j);
    publish_gauges(j);
    pthread_mutex_unlock(&j->mu);
    if (write_ck)
        checkpoint_write(j->dirfd, ck);
}

void inlet_journal_stop(inlet_journal *j)
{
    if (!j || !j->started)
        return;
    pthread_mutex_lock(&j->mu);
    j->stop = 1;
    pthread_cond_broadcast(&j->commit_cv);
    pthread_mutex_unlock(&j->mu);
    pthread_join(j->committer, NULL);
    j->started = 0;
}

void inlet_journal_free(inlet_journal *j)
{
    if (!j)
        return;
    inlet_journal_stop(j);
    if (j->dirfd >= 0 && j->ckpt_written)
        checkpoint_write(j->dirfd, j->ckpt_written);
    if (j->wfd >= 0)
        close(j->wfd);
    if (j->wakefd >= 0)
        close(j->wakefd);
    if (j->lockfd >= 0)
        close(j->lockfd);
    if (j->dirfd >= 0)
        close(j->dirfd);
    free(j->segs);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->commit_cv);
    pthread_cond_destroy(&j->idle_cv);
    free(j);
}
