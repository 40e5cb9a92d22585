/* Gives wrk a TLS client certificate (wrk has no option for one): loaded with LD_PRELOAD, it wraps
 * OpenSSL's SSL_CTX_new and sets the certificate chain and key from BENCH_CLIENT_CERT (one PEM
 * holding both, as the service's bindings are) on every context wrk makes. Built by bench/service.sh. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

typedef void SSL_CTX;
typedef void SSL_METHOD;

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method)
{
    SSL_CTX *(*real)(const SSL_METHOD *) = (SSL_CTX * (*)(const SSL_METHOD *)) dlsym(RTLD_NEXT, "SSL_CTX_new");
    int (*chain)(SSL_CTX *, const char *) = (int (*)(SSL_CTX *, const char *)) dlsym(RTLD_NEXT, "SSL_CTX_use_certificate_chain_file");
    int (*key)(SSL_CTX *, const char *, int) = (int (*)(SSL_CTX *, const char *, int)) dlsym(RTLD_NEXT, "SSL_CTX_use_PrivateKey_file");
    const char *pem = getenv("BENCH_CLIENT_CERT");
    SSL_CTX *ctx = real ? real(method) : NULL;
    if (ctx && pem && chain && key && (chain(ctx, pem) != 1 || key(ctx, pem, 1 /* SSL_FILETYPE_PEM */) != 1)) {
        fprintf(stderr, "wrk-client-cert: cannot load %s\n", pem);
        exit(1);
    }
    return ctx;
}
