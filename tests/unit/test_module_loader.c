/* test_module_loader.c - the ABI promises of inlet/module.h, through the real loader and host
 * table: every host function of minors 1.0..INLET_ABI_MINOR is filled, a module built against
 * the ABI 1.0 headers loads and runs, a C++ module loads (its entry has C linkage), and the
 * instance-scoped metrics carry the instance's name. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "metrics.h"
#include "module_ctx.h"

/* The host functions each minor added: the guarantee in module.h's header comment. */
#define FN(member)                                                                                 \
    {                                                                                              \
#member, offsetof(inlet_host, member)                                                      \
    }
static const struct {
    const char *name;
    size_t at;
} host_functions[][12] = {
    [0] = {FN(log), FN(log_enabled), FN(auth_bearer), FN(auth_cert_chain), FN(identity_ref),
           FN(identity_release), FN(authorize), FN(submit), FN(rejection_free), FN(queue_new),
           FN(queue_fd), FN(queue_drain)},
    [1] = {FN(queue_pending), FN(queue_free), FN(kafka_ready), FN(retry_after_s),
           FN(metric_counter), FN(metric_gauge), FN(metric_add), FN(metrics_render), FN(now_us)},
    [2] = {FN(identity_for_device)},
    [3] = {FN(status_name)},
    [4] = {FN(content_type_for_coap), FN(content_type_supported)},
    [5] = {FN(auth_psk), FN(identity_for_imei), FN(identity_expires_at)},
    [6] = {FN(instance_name), FN(metric_counter_for), FN(metric_gauge_for), FN(connection_open),
           FN(connection_close), FN(refusal), FN(admin_resource)},
};
/* Row 0 and 1 are both ABI 1.0 (it had 21 functions); row m + 1 is minor m. */
static const unsigned host_function_minor[] = {0, 0, 1, 2, 3, 4, 5};

static void test_host_table(void)
{
    const inlet_host *h = inlet_host_table();
    CHECK(h->abi_major == INLET_ABI_MAJOR && h->abi_minor == INLET_ABI_MINOR);
    CHECK(h->size == sizeof(inlet_host));
    size_t counted = 0;
    for (size_t r = 0; r < sizeof(host_functions) / sizeof(host_functions[0]); r++) {
        CHECK(host_function_minor[r] <= h->abi_minor);
        for (size_t i = 0; i < 12 && host_functions[r][i].name; i++) {
            void *fn;
            memcpy(&fn, (const char *)h + host_functions[r][i].at, sizeof(fn));
            if (!fn)
                fprintf(stderr, "host->%s (ABI 1.%u) is NULL\n", host_functions[r][i].name,
                        host_function_minor[r]);
            CHECK(fn != NULL);
            CHECK(h->size >= host_functions[r][i].at + sizeof(fn));
            counted++;
        }
    }
    /* Every function pointer of the struct is in the list above: a new minor's functions must
     * be added to it (and to the guarantee). */
    size_t fields = (sizeof(inlet_host) - offsetof(inlet_host, log)) / sizeof(void *);
    CHECK(counted == fields);
    CHECK(INLET_HOST_HAS(h, refusal));
}

static int open_module(inlet_module_ctx *m, const char *file, const char *name, char *err,
                       size_t err_len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", INLET_TEST_MODULE_DIR, file);
    memset(m, 0, sizeof(*m));
    m->instance = strdup(name);
    return inlet_module_open(m, path, name, err, err_len);
}

/* create, start, stop_accepting, stop, destroy with the real host table. */
static int run_module(inlet_module_ctx *m, void *config, char *err, size_t err_len)
{
    m->config = config;
    if (m->desc->create(inlet_host_table(), m, config, &m->state, err, err_len) != 0)
        return -1;
    int rc = m->desc->start(m->state, err, err_len);
    if (rc == 0) {
        m->desc->stop_accepting(m->state);
        m->desc->stop(m->state);
    }
    m->desc->destroy(m->state); /* after a failed start() too: destroy() only */
    m->state = NULL;
    return rc;
}

static void test_abi10_module(void)
{
    inlet_module_ctx m;
    char err[512] = "";
    int rc = open_module(&m, "abi10.so", "abi10", err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK(rc == 0);
    if (rc != 0)
        return;
    CHECK(m.desc->abi_major == 1 && m.desc->abi_minor == 0);
    /* A 1.0 descriptor had reserved[8] where option_checks is now: zero, so no hooks. */
    CHECK(m.desc->option_checks == NULL);
    int64_t *config = calloc(1, m.desc->config_size);
    CHECK(config && m.desc->config_size == sizeof(int64_t));
    *config = 42; /* what its option table's default gives */
    CHECK(run_module(&m, config, err, sizeof(err)) == 0);
    char *text = inlet_metrics_render(NULL);
    CHECK_CONTAINS(text, "inlet_test_abi10_starts_total 1");
    free(text);
    m.config = NULL; /* the loader would release it with the table: it holds no strings */
    free(config);
    inlet_module_close(&m);
}

static void test_cpp_module(void)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/cpp_hello.so", INLET_TEST_MODULE_DIR);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "no C++ compiler: %s not built, skipped\n", path);
        return;
    }
    inlet_module_ctx m;
    char err[512] = "";
    int rc = open_module(&m, "cpp_hello.so", "cpp-a", err, sizeof(err));
    /* The instance is called cpp-a, the module cpp_hello: the name check must refuse. */
    CHECK(rc != 0);
    CHECK_CONTAINS(err, "calls itself \"cpp_hello\"");
    inlet_module_close(&m);

    rc = open_module(&m, "cpp_hello.so", "cpp_hello", err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK(rc == 0);
    if (rc != 0)
        return;
    CHECK(m.desc->abi_minor == INLET_ABI_MINOR);
    CHECK_STR(m.desc->options[0].name, "greeting");
    CHECK(m.desc->options[1].type == INLET_OPT_INT && m.desc->options[1].max == 10);
    struct {
        char *greeting;
        int64_t times;
    } config = {(char *)"bonjour", 1};
    free(m.instance);
    m.instance = strdup("cpp-instance");
    CHECK(run_module(&m, &config, err, sizeof(err)) == 0);
    char *text = inlet_metrics_render(NULL);
    CHECK_CONTAINS(text, "inlet_test_cpp_starts_total{module=\"cpp-instance\"} 1");
    free(text);
    m.config = NULL;
    inlet_module_close(&m);
}

/* Two instances of one module keep separate series; their own labels follow module="...". */
static void test_instance_metrics(void)
{
    const inlet_host *h = inlet_host_table();
    inlet_module_ctx a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    a.instance = (char *)"http-public";
    b.instance = (char *)"http-internal";
    CHECK_STR(h->instance_name(&a), "http-public");
    inlet_metric *ma = h->metric_counter_for(&a, "inlet_test_requests_total", "R.", "code=\"200\"");
    inlet_metric *mb = h->metric_counter_for(&b, "inlet_test_requests_total", "R.", "code=\"200\"");
    CHECK(ma && mb && ma != mb);
    h->metric_add(ma, 3);
    h->metric_add(mb, 5);
    inlet_metric *g = h->metric_gauge_for(&b, "inlet_test_open", "O.", NULL);
    h->metric_add(g, 2);
    char *text = h->metrics_render(NULL);
    CHECK_CONTAINS(text, "inlet_test_requests_total{module=\"http-public\",code=\"200\"} 3");
    CHECK_CONTAINS(text, "inlet_test_requests_total{module=\"http-internal\",code=\"200\"} 5");
    CHECK_CONTAINS(text, "inlet_test_open{module=\"http-internal\"} 2");
    free(text);
}

int main(void)
{
    test_host_table();
    test_abi10_module();
    test_cpp_module();
    test_instance_metrics();
    return check_done();
}
