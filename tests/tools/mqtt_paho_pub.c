/*
 * mqtt_paho_pub.c - a test client on Eclipse Paho MQTT C (async, with TLS): connect, publish n
 * messages at one QoS with MQTT 5 user properties, and report what the server answered for
 * each, as JSON lines on stdout. The integration tests use it as a second real client library
 * beside mosquitto_pub.
 *
 *   mqtt_paho_pub -s tcp://127.0.0.1:1883 -V 5 -q 1 -n 10 -t devices/truck-0042/events \
 *                 -m '{"event_id":"e-%d", ...}' -u truck-0042 -P <token> -p trip=7 \
 *                 [-c ca.pem] [-C cert.pem -K key.pem] [-i client-id] [-w window]
 *
 * "%d" in the message is replaced by the message's index. Output, one line per message, then a
 * summary:  {"i":0,"ok":true,"rc":0}  ...  {"connected":true,"sent":10,"acked":10,"failed":0}
 * rc is the PUBACK/PUBREC reason code (MQTT 5), or -1 when the connection was lost first.
 * Exit status: 0 when every message was acknowledged with reason code 0, else 1.
 */
#include <MQTTAsync.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct result {
    int done; /* 0 pending, 1 acknowledged, 2 refused or failed */
    int rc;
} result;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int connected, connect_failed, connect_rc, lost;
static int in_flight;
static result *results;

static void finish(long i, int ok, int rc)
{
    pthread_mutex_lock(&mu);
    if (results[i].done == 0) {
        results[i].done = ok ? 1 : 2;
        results[i].rc = rc;
        in_flight--;
    }
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static void on_sent5(void *ctx, MQTTAsync_successData5 *r)
{
    finish((long)(intptr_t)ctx, 1, r ? (int)r->reasonCode : 0);
}

static void on_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    finish((long)(intptr_t)ctx, 0, r ? (int)r->reasonCode : -1);
}

static void on_sent(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    finish((long)(intptr_t)ctx, 1, 0);
}

static void on_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    finish((long)(intptr_t)ctx, 0, -1);
}

static void on_connected5(void *ctx, MQTTAsync_successData5 *r)
{
    (void)ctx;
    (void)r;
    pthread_mutex_lock(&mu);
    connected = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static void on_connect_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    connect_failed = 1;
    connect_rc = r ? (r->reasonCode ? (int)r->reasonCode : r->code) : -1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static void on_connected(void *ctx, MQTTAsync_successData *r)
{
    on_connected5(ctx, NULL);
    (void)r;
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    (void)ctx;
    pthread_mutex_lock(&mu);
    connect_failed = 1;
    connect_rc = r ? r->code : -1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static void on_lost(void *ctx, char *cause)
{
    (void)ctx;
    (void)cause;
    pthread_mutex_lock(&mu);
    lost = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static int on_message(void *ctx, char *topic, int len, MQTTAsync_message *msg)
{
    (void)ctx;
    (void)len;
    MQTTAsync_freeMessage(&msg);
    MQTTAsync_free(topic);
    return 1;
}

static void deadline_in(struct timespec *ts, int seconds)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += seconds;
}

/* The message text for index i: every "%d" becomes i. */
static char *render(const char *tmpl, long i)
{
    size_t cap = strlen(tmpl) * 2 + 64, n = 0;
    char *out = malloc(cap);
    for (const char *p = tmpl; *p; p++) {
        if (n + 32 >= cap)
            out = realloc(out, cap *= 2);
        if (p[0] == '%' && p[1] == 'd') {
            n += (size_t)snprintf(out + n, cap - n, "%ld", i);
            p++;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return out;
}

int main(int argc, char **argv)
{
    const char *server = "tcp://127.0.0.1:1883", *topic = NULL, *tmpl = "{}", *user = NULL;
    const char *pass = NULL, *cafile = NULL, *cert = NULL, *key = NULL, *client_id = "";
    int version = 5, qos = 1, window = 20, timeout_s = 60;
    long count = 1;
    char *props[32];
    int n_props = 0, c;

    while ((c = getopt(argc, argv, "s:V:q:n:t:m:u:P:c:C:K:i:p:w:T:")) != -1) {
        switch (c) {
        case 's':
            server = optarg;
            break;
        case 'V':
            version = atoi(optarg);
            break;
        case 'q':
            qos = atoi(optarg);
            break;
        case 'n':
            count = atol(optarg);
            break;
        case 't':
            topic = optarg;
            break;
        case 'm':
            tmpl = optarg;
            break;
        case 'u':
            user = optarg;
            break;
        case 'P':
            pass = optarg;
            break;
        case 'c':
            cafile = optarg;
            break;
        case 'C':
            cert = optarg;
            break;
        case 'K':
            key = optarg;
            break;
        case 'i':
            client_id = optarg;
            break;
        case 'p':
            if (n_props < 32 && strchr(optarg, '='))
                props[n_props++] = optarg;
            break;
        case 'w':
            window = atoi(optarg);
            break;
        case 'T':
            timeout_s = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: see the comment at the top of mqtt_paho_pub.c\n");
            return 2;
        }
    }
    if (topic == NULL || count < 1 || window < 1 || (version != 3 && version != 5)) {
        fprintf(stderr, "mqtt_paho_pub: -t topic, -n >= 1, -w >= 1, -V 3 or 5 are needed\n");
        return 2;
    }
    results = calloc((size_t)count, sizeof(*results));

    MQTTAsync client;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    if (MQTTAsync_createWithOptions(&client, server, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL,
                                    &co) != MQTTASYNC_SUCCESS) {
        fprintf(stderr, "mqtt_paho_pub: cannot create the client\n");
        return 2;
    }
    MQTTAsync_setCallbacks(client, NULL, on_lost, on_message, NULL);

    MQTTAsync_connectOptions conn;
    if (version == 5) {
        MQTTAsync_connectOptions init5 = MQTTAsync_connectOptions_initializer5;
        conn = init5;
        conn.cleanstart = 1;
        conn.onSuccess5 = on_connected5;
        conn.onFailure5 = on_connect_failed5;
    } else {
        MQTTAsync_connectOptions init = MQTTAsync_connectOptions_initializer;
        conn = init;
        conn.cleansession = 1;
        conn.onSuccess = on_connected;
        conn.onFailure = on_connect_failed;
    }
    conn.keepAliveInterval = 30;
    conn.username = user;
    conn.password = pass;
    conn.maxInflight = window;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    if (cafile != NULL) {
        ssl.trustStore = cafile;
        ssl.keyStore = cert;
        ssl.privateKey = key;
        ssl.enableServerCertAuth = 1;
        ssl.verify = 1;
        conn.ssl = &ssl;
    }

    struct timespec until;
    deadline_in(&until, 20);
    pthread_mutex_lock(&mu);
    int rc = MQTTAsync_connect(client, &conn);
    while (rc == MQTTASYNC_SUCCESS && !connected && !connect_failed)
        if (pthread_cond_timedwait(&cond, &mu, &until) != 0)
            break;
    int ok_connect = connected;
    pthread_mutex_unlock(&mu);
    if (!ok_connect) {
        printf("{\"connected\":false,\"rc\":%d}\n", connect_failed ? connect_rc : rc);
        MQTTAsync_destroy(&client);
        return 1;
    }

    long sent = 0;
    deadline_in(&until, timeout_s);
    for (long i = 0; i < count; i++) {
        pthread_mutex_lock(&mu);
        while (in_flight >= window && !lost)
            if (pthread_cond_timedwait(&cond, &mu, &until) != 0)
                break;
        int stop = lost || in_flight >= window;
        if (!stop)
            in_flight++;
        pthread_mutex_unlock(&mu);
        if (stop)
            break;

        char *text = render(tmpl, i);
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        MQTTProperties mp = MQTTProperties_initializer;
        msg.payload = text;
        msg.payloadlen = (int)strlen(text);
        msg.qos = qos;
        for (int k = 0; version == 5 && k < n_props; k++) {
            MQTTProperty p;
            char *eq = strchr(props[k], '=');
            memset(&p, 0, sizeof(p));
            p.identifier = MQTTPROPERTY_CODE_USER_PROPERTY;
            p.value.data.data = props[k];
            p.value.data.len = (int)(eq - props[k]);
            p.value.value.data = eq + 1;
            p.value.value.len = (int)strlen(eq + 1);
            MQTTProperties_add(&mp, &p);
        }
        msg.properties = mp;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.context = (void *)(intptr_t)i;
        if (version == 5) {
            ro.onSuccess5 = on_sent5;
            ro.onFailure5 = on_failed5;
        } else {
            ro.onSuccess = on_sent;
            ro.onFailure = on_failed;
        }
        rc = MQTTAsync_sendMessage(client, topic, &msg, &ro);
        MQTTProperties_free(&mp);
        free(text);
        if (rc != MQTTASYNC_SUCCESS) {
            finish(i, 0, -1);
            break;
        }
        sent++;
    }

    pthread_mutex_lock(&mu);
    while (in_flight > 0 && !lost)
        if (pthread_cond_timedwait(&cond, &mu, &until) != 0)
            break;
    pthread_mutex_unlock(&mu);

    long acked = 0, failed = 0;
    for (long i = 0; i < sent; i++) {
        if (results[i].done == 1 && results[i].rc == 0)
            acked++;
        else
            failed++;
        printf("{\"i\":%ld,\"ok\":%s,\"rc\":%d}\n", i,
               results[i].done == 1 && results[i].rc == 0 ? "true" : "false",
               results[i].done ? results[i].rc : -1);
    }
    printf("{\"connected\":true,\"sent\":%ld,\"acked\":%ld,\"failed\":%ld,\"lost\":%s}\n", sent,
           acked, failed, lost ? "true" : "false");
    fflush(stdout);

    if (!lost) {
        MQTTAsync_disconnectOptions d = MQTTAsync_disconnectOptions_initializer;
        d.timeout = 2000;
        MQTTAsync_disconnect(client, &d);
        struct timespec ts = {0, 200 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MQTTAsync_destroy(&client);
    free(results);
    return acked == count ? 0 : 1;
}
