/* One error space for all of hdc. Every call returns 0 or a negative
 * error: a libuv errno (UV_ENOMEM, UV_ECANCELED, ...) or one of hdc's own
 * codes below, each in the range of the module that reports it. The table
 * is the one place that names a code and says what it means; modules use
 * the names, and hdc_strerror gives the text for any code, libuv's
 * included.
 */
#ifndef HDC_ERR_H
#define HDC_ERR_H

/* X(NAME, CODE, TEXT): the module that reports NAME is its prefix. */
#define HDC_ERRORS(X)                                                                          \
    X(HTTP_EPARSE, -30001, "the peer sent a malformed HTTP response")                          \
    X(HTTP_ETOOBIG, -30002, "the response body is larger than the limit")                      \
    X(HTTP_ETRUNC, -30003, "the connection closed before the response was complete")           \
    X(PLUGIN_ENOTFOUND, -31001, "no such plugin")                                              \
    X(PLUGIN_EOPEN, -31002, "cannot load the plugin file")                                     \
    X(PLUGIN_ESYMBOL, -31003, "not an hdc plugin (no hdc_plugin symbol)")                      \
    X(PLUGIN_EABI, -31004, "plugin built for another ABI")                                     \
    X(PLUGIN_EINVALID, -31005, "invalid plugin descriptor")                                    \
    X(BOOT_EINVALID, -31101, "the steps do not form a valid DAG")                              \
    X(PLAN_EINVAL, -31201, "bad cluster name, count or subnet pool")                           \
    X(CLUSTER_EEXISTS, -31301, "a cluster of that name exists")                                \
    X(CLUSTER_ENOIMAGE, -31302, "an image the cluster needs is missing: build it first")       \
    X(CLUSTER_EFAILED, -31303, "a service or a bootstrap step failed")                         \
    X(IMAGES_EMISSING, -31401, "a file the build needs is missing")                            \
    X(CLIENT_ENOCLUSTER, -31501, "no cluster of that name")                                    \
    X(CLIENT_ENOCLIENT, -31502, "the distribution declares no client node")                    \
    X(FETCH_EDOWNLOAD, -31601, "the download of a release failed")                             \
    X(FETCH_ECHECKSUM, -31602, "the file's SHA-512 is not the expected one")                   \
    X(DEMUX_EBADTYPE, -32001, "unknown stream type in a frame header of a multiplexed stream") \
    X(DEMUX_EPADDING, -32002, "nonzero padding in a frame header of a multiplexed stream")     \
    X(DEMUX_ETOOBIG, -32003, "frame larger than the limit in a multiplexed stream")            \
    X(DEMUX_ETRUNC, -32004, "multiplexed stream ended inside a frame")                         \
    X(LINES_ETOOLONG, -32101, "line too long in a JSON-lines stream")                          \
    X(LINES_ENOMEM, -32102, "out of memory")                                                   \
    X(DOCKER_ENOENGINE, -32201, "no Docker engine answers")                                    \
    X(DOCKER_EAPI, -32202, "the Docker engine refused the request")                            \
    X(DOCKER_ENOTFOUND, -32203, "no such Docker object")                                       \
    X(DOCKER_ECONFLICT, -32204, "conflict with an existing Docker object")                     \
    X(DOCKER_EOVERLAP, -32205, "the network's subnet overlaps one in use")                     \
    X(DOCKER_EPROTO, -32206, "unexpected reply from the Docker engine")                        \
    X(DOCKER_EBUILD, -32207, "the image build failed")                                         \
    X(DOCKER_ESTREAM, -32208, "malformed or failed Docker stream")                             \
    X(DOCKER_ECONTEXT, -32209, "the build context could not be archived")                      \
    X(ZK_ENONODE, -33001, "no such znode")                                                     \
    X(ZK_ENODEEXISTS, -33002, "the znode exists already")                                      \
    X(ZK_ENOTEMPTY, -33003, "the znode has children")                                          \
    X(ZK_EBADVERSION, -33004, "the znode's version differs")                                   \
    X(ZK_ECONNLOSS, -33005, "the connection to ZooKeeper was lost during the call")            \
    X(ZK_EEXPIRED, -33006, "the ZooKeeper session expired during the call")                    \
    X(ZK_ENOAUTH, -33007, "not authorized by ZooKeeper")                                       \
    X(ZK_EBADARGS, -33008, "invalid znode path or argument")                                   \
    X(ZK_EAPI, -33009, "error from the ZooKeeper client library")

enum hdc_err {
#define HDC_ERR_ENUM(name, code, text) name = (code),
    HDC_ERRORS(HDC_ERR_ENUM)
#undef HDC_ERR_ENUM
};

/* What err means, for a person: hdc's text for its own codes, libuv's
 * for the rest, "success" for 0. Never NULL. */
const char *hdc_strerror(int err);

/* The code's name ("DOCKER_ENOTFOUND", "ECONNREFUSED"), for logs and
 * tests. Never NULL. */
const char *hdc_err_name(int err);

#endif
