/*
 * libdovelab-frrcaps.so, preloaded (/etc/ld.so.preload) in dovelab/router.
 *
 * FRR's daemons ask libcap for a fixed set of capabilities at start (zebra: NET_ADMIN,
 * NET_RAW and SYS_ADMIN, the last for VRFs as network namespaces) and exit when
 * cap_set_proc() refuses one. A lab host is unprivileged: it has NET_ADMIN and NET_RAW but
 * never SYS_ADMIN (mount, namespaces: too much for a student's container on the appliance).
 * This cap_set_proc() leaves out of the request what the bounding set does not hold, then asks
 * libcap for the rest; nothing is ever added. Every other libcap call is untouched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/capability.h>

int cap_set_proc(cap_t caps)
{
    static int (*real)(cap_t);
    if (!real)
        real = (int (*)(cap_t))dlsym(RTLD_NEXT, "cap_set_proc");
    if (!real)
        return -1;
    cap_t c = cap_dup(caps);
    if (!c)
        return real(caps);
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; v++) {
        if (cap_get_bound(v) == 1)
            continue;
        cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
        cap_set_flag(c, CAP_PERMITTED, 1, &v, CAP_CLEAR);
        cap_set_flag(c, CAP_INHERITABLE, 1, &v, CAP_CLEAR);
    }
    int r = real(c);
    cap_free(c);
    return r;
}
