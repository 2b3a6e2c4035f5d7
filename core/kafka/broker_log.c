/* broker_log.c - see broker_log.h. */
#include "broker_log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "log.h"

#define MAX_TRACKED 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char down[MAX_TRACKED][128]; /* names of brokers logged down, "" = free slot */
static int all_down_logged;

/* librdkafka's guesses, each removed up to the end of its sentence. */
static const struct {
    const char *hint;
    const char *until; /* the guess ends after this; NULL = just the hint */
} hints[] = {
    {": verify that security.protocol is correctly configured, broker might require SASL "
     "authentication",
     NULL},
    {"verify that security.protocol is correctly configured, broker might require SASL "
     "authentication",
     NULL},
    {": might be caused by incorrect security.protocol configuration", "api.version.request)"},
    {" (connecting to a SSL listener?)", NULL},
    {": probably due to broker version < 0.10", "api.version.request)"},
};

void inlet_broker_log_clean(const char *reason, char *out, size_t out_len)
{
    snprintf(out, out_len, "%s", reason ? reason : "");
    for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++) {
        char *at = strstr(out, hints[i].hint);
        if (!at)
            continue;
        char *end = at + strlen(hints[i].hint);
        if (hints[i].until) {
            char *u = strstr(end, hints[i].until);
            if (u)
                end = u + strlen(hints[i].until);
        }
        memmove(at, end, strlen(end) + 1);
    }
}

/* "127.0.0.1:9092/1: Connect to ..." -> "127.0.0.1:9092/1"; 0 if the reason names none. */
static int broker_of(const char *reason, char *name, size_t len)
{
    const char *sep = strstr(reason, ": ");
    const char *slash = memchr(reason, '/', sep ? (size_t)(sep - reason) : 0);
    if (!sep || !slash || (size_t)(sep - reason) >= len)
        return 0;
    memcpy(name, reason, (size_t)(sep - reason));
    name[sep - reason] = '\0';
    return 1;
}

/* 1 if name was not known down and is now. */
static int mark_down(const char *name)
{
    int free_slot = -1;
    for (int i = 0; i < MAX_TRACKED; i++) {
        if (strcmp(down[i], name) == 0)
            return 0;
        if (!down[i][0] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot >= 0)
        snprintf(down[free_slot], sizeof(down[free_slot]), "%s", name);
    return 1;
}

void inlet_broker_log_error(int err, const char *reason)
{
    char clean[512], name[128];
    inlet_broker_log_clean(reason, clean, sizeof(clean));
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        pthread_mutex_lock(&mu);
        int first = !all_down_logged;
        all_down_logged = 1;
        pthread_mutex_unlock(&mu);
        inlet_logf(first ? INLET_LOG_WARN : INLET_LOG_DEBUG, "kafka", "all brokers are down: %s",
                   clean);
        return;
    }
    if ((err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE ||
         err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL) &&
        broker_of(clean, name, sizeof(name))) {
        pthread_mutex_lock(&mu);
        int first = mark_down(name);
        pthread_mutex_unlock(&mu);
        const char *what = clean + strlen(name) + 2;
        if (first)
            inlet_logf(INLET_LOG_WARN, "kafka", "broker %s is down: %s", name, what);
        else
            inlet_logf(INLET_LOG_DEBUG, "kafka", "broker %s still down: %s", name, what);
        return;
    }
    inlet_logf(INLET_LOG_WARN, "kafka", "%s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err),
               clean);
}

void inlet_broker_log_line(int level, const char *fac, const char *buf)
{
    /* FAIL, ERROR and FATAL lines repeat what error_cb reports (and producer.c logs). */
    if (strcmp(fac, "FAIL") == 0 || strcmp(fac, "ERROR") == 0 || strcmp(fac, "FATAL") == 0) {
        inlet_logf(INLET_LOG_DEBUG, "librdkafka", "%s: %s", fac, buf);
        return;
    }
    char clean[1024];
    inlet_broker_log_clean(buf, clean, sizeof(clean));
    inlet_log_level l = level <= 3   ? INLET_LOG_ERROR
                        : level <= 4 ? INLET_LOG_WARN
                        : level <= 6 ? INLET_LOG_INFO
                                     : INLET_LOG_DEBUG;
    inlet_logf(l, "librdkafka", "%s: %s", fac, clean);
}

void inlet_broker_log_stats(const char *json, size_t len)
{
    json_t *root = json_loadb(json, len, 0, NULL);
    json_t *brokers = root ? json_object_get(root, "brokers") : NULL;
    const char *key;
    json_t *b;
    int any_up = 0;
    json_object_foreach(brokers, key, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        if (!state || strcmp(state, "UP") != 0)
            continue;
        any_up = 1;
        pthread_mutex_lock(&mu);
        int was_down = 0;
        for (int i = 0; i < MAX_TRACKED; i++)
            if (strcmp(down[i], key) == 0) {
                down[i][0] = '\0';
                was_down = 1;
            }
        pthread_mutex_unlock(&mu);
        if (was_down)
            inlet_logf(INLET_LOG_INFO, "kafka", "broker %s is up again", key);
    }
    if (any_up) {
        pthread_mutex_lock(&mu);
        all_down_logged = 0;
        pthread_mutex_unlock(&mu);
    }
    json_decref(root);
}

void inlet_broker_log_reset(void)
{
    pthread_mutex_lock(&mu);
    memset(down, 0, sizeof(down));
    all_down_logged = 0;
    pthread_mutex_unlock(&mu);
}
