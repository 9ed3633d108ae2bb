# shellcheck shell=bash
# The private Docker engine of the engine-fault tests (tests/faults/
# test_engine_*.sh), sourced by them and by engine_setup.sh/engine_cleanup.sh.
#
# A test that restarts an engine must never do it to the one everything
# else on the machine uses, so these tests get a dockerd of their own, in a
# network namespace of its own: a second dockerd in the host's namespace
# shares its bridges and iptables (one started there with --bridge=none
# deleted the main engine's docker0). In its own namespace it may keep a
# default bridge and touches nothing of the host's. It reaches no network:
# its images come from the main engine (engine_setup.sh). Its published
# ports are on the namespace's 127.0.0.1, which is why hdc runs in the
# namespace too (pe_run): exactly the situation of a remote engine.
#
# Names are fixed (one private engine per machine at a time): the namespace,
# and the runtime directory that holds the pidfile, the socket and dockerd's
# exec-root (short, since dockerd and its containerd put sockets under it).
# Images and containers live in the data-root under the build directory,
# which persists across pe_restart: that is the point, as containers exit on
# an engine restart and must be startable again.

pe_ns=hdcpe
pe_netns=/var/run/netns/$pe_ns
pe_run_dir=/run/hdcpe
pe_exec_root=$pe_run_dir/exec
pe_sock=$pe_run_dir/docker.sock
pe_pidfile=$pe_run_dir/dockerd.pid
pe_dir=${HDC_BUILD_DIR:?HDC_BUILD_DIR must name the build directory}/private-engine
pe_data_root=$pe_dir/data
pe_log=$pe_dir/dockerd.log
# Subnets of the private engine's clusters: apart from the main engine's
# default pool (172.29.0.0/16:24, docs/design.md) so that nothing seen in
# either engine's addresses can be mistaken for the other's.
pe_pool=172.30.0.0/16:24

pe_say() { printf 'private engine: %s\n' "$*" >&2; }

# pe_docker ARGS...: the docker CLI against the private engine (its socket
# is a file, so no need to enter the namespace).
pe_docker() {
    DOCKER_HOST=unix://$pe_sock docker "$@"
}

# pe_run CMD...: CMD inside the namespace, talking to the private engine,
# with a subnet pool of its own: `pe_run "$HDC_BUILD_DIR/hdc" up ...`.
pe_run() {
    nsenter --net="$pe_netns" env DOCKER_HOST="unix://$pe_sock" HDC_SUBNET_POOL="$pe_pool" "$@"
}

# pe_pid: the PID of our dockerd (from our pidfile, and only if that process
# is a dockerd started with our pidfile: never a reused PID), or fails.
pe_pid() {
    local pid cmd
    pid=$(cat "$pe_pidfile" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    cmd=$(pe_cmdline "$pid") || return 1
    [[ $cmd == *dockerd* && $cmd == *"--pidfile $pe_pidfile "* ]] || return 1
    pe_alive "$pid" || return 1
    printf '%s\n' "$pid"
}

# pe_alive PID: the process exists and is not a zombie (an exited dockerd
# whose parent has not reaped it yet counts as gone).
pe_alive() {
    local state
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# pe_ns_up: the namespace exists with its loopback up (idempotent).
pe_ns_up() {
    [ -e "$pe_netns" ] || ip netns add "$pe_ns" || return 1
    nsenter --net="$pe_netns" ip link set lo up
}

# pe_start: starts the private dockerd in the namespace and returns once it
# answers. Its log goes to $pe_log.
pe_start() {
    local pid i
    if pid=$(pe_pid); then
        pe_say "already running (PID $pid)"
        return 1
    fi
    [ -e "$pe_netns" ] || { pe_say "no namespace $pe_ns: run engine_setup.sh"; return 1; }
    mkdir -p "$pe_run_dir" "$pe_exec_root" "$pe_data_root" || return 1
    # Its own (empty) configuration: the main engine's daemon.json (hosts,
    # data-root...) is not for it.
    [ -f "$pe_dir/daemon.json" ] || echo '{}' >"$pe_dir/daemon.json" || return 1
    # Use `nsenter --net`, not `ip netns exec`: that one remounts /sys and
    # hides the cgroup mounts dockerd needs. setsid and the subshell leave it
    # to no test's process group or wait; stdin/stdout/stderr are not a
    # pipe of ctest's, which would else wait for dockerd to close them.
    (setsid nsenter --net="$pe_netns" dockerd \
        --config-file "$pe_dir/daemon.json" \
        --data-root "$pe_data_root" --exec-root "$pe_exec_root" \
        --pidfile "$pe_pidfile" -H "unix://$pe_sock" \
        --iptables=false --ip-masq=false \
        --containerd-namespace hdcpe --containerd-plugins-namespace hdcpe-plugins \
        </dev/null >>"$pe_log" 2>&1 &)
    # dockerd announces nothing a script can wait on: a bounded wait for it
    # to answer, ending early if it died.
    for i in $(seq 1 240); do
        if pe_docker version >/dev/null 2>&1; then
            pe_pid >/dev/null && return 0
        fi
        if [ "$i" -gt 10 ] && ! pe_pid >/dev/null; then
            break
        fi
        sleep 0.25
    done
    pe_say "dockerd did not answer within 60 s; the end of $pe_log:"
    tail -20 "$pe_log" >&2
    return 1
}

# pe_stop: SIGTERM to our dockerd by its PID (it stops its containers, then
# itself), and waits for it to be gone, bounded; SIGKILL after that.
# Succeeds when none runs.
pe_stop() {
    local pid i
    pid=$(pe_pid) || return 0
    kill -TERM "$pid" 2>/dev/null
    # Not our child (see pe_start): no wait(2); a bounded watch of its PID.
    for i in $(seq 1 360); do
        pe_alive "$pid" || return 0
        sleep 0.25
    done
    pe_say "dockerd (PID $pid) still running 90 s after SIGTERM: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    for i in $(seq 1 40); do
        pe_alive "$pid" || return 0
        sleep 0.25
    done
    pe_say "dockerd (PID $pid) survived SIGKILL"
    return 1
}

# pe_restart: stop and start on the same data-root: images and containers
# persist; the containers that ran have exited.
pe_restart() {
    pe_stop && pe_start
}

# pe_umount_under DIR: unmounts whatever a dead dockerd left mounted under
# DIR (overlay layers, netns files), deepest first, so that removing DIR
# removes only DIR's own files.
pe_umount_under() {
    local m
    [ -d "$1" ] || return 0
    while read -r m; do
        umount -l "$m" 2>/dev/null
    done < <(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# pe_cmdline PID: the process's command line, arguments joined by spaces
# (each followed by one), or fails when there is no such process.
pe_cmdline() {
    [ -r "/proc/$1/cmdline" ] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null
}

# pe_reap_leftovers: run when our dockerd is not (after pe_stop): what a
# killed one (SIGKILL, a killed test run) leaves running. Its containers, in
# its runc state; their shims, which outlive the containers once no
# containerd collects them, and its managed containerd if that survived:
# each only if its command line names our exec-root.
pe_reap_leftovers() {
    local runc_root=$pe_exec_root/runtime-runc/hdcpe id proc pid pids=()
    if [ -d "$runc_root" ] && command -v runc >/dev/null; then
        for id in $(runc --root "$runc_root" list -q 2>/dev/null); do
            runc --root "$runc_root" kill --all "$id" KILL 2>/dev/null
            runc --root "$runc_root" delete --force "$id" 2>/dev/null
        done
    fi
    for proc in /proc/[0-9]*; do
        pid=${proc#/proc/}
        case "$(pe_cmdline "$pid")" in
            *containerd-shim*" $pe_exec_root/containerd/"* | *containerd" "*" $pe_exec_root/containerd/"*)
                pids+=("$pid") ;;
        esac
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    pe_say "stopping what an earlier private dockerd left running: PIDs ${pids[*]}"
    kill -TERM "${pids[@]}" 2>/dev/null
    for _ in $(seq 1 40); do
        pe_any_alive "${pids[@]}" || return 0
        sleep 0.25
    done
    kill -KILL "${pids[@]}" 2>/dev/null
    return 0
}

pe_any_alive() { # PID...
    local pid
    for pid in "$@"; do pe_alive "$pid" && return 0; done
    return 1
}

# pe_destroy: stops our dockerd, removes its state and the namespace.
# Touches nothing else: not the main engine, not another namespace.
pe_destroy() {
    local st=0
    pe_stop || st=1
    pe_reap_leftovers
    pe_umount_under "$pe_run_dir"
    pe_umount_under "$pe_dir"
    rm -rf "$pe_run_dir" "$pe_dir" || st=1
    if [ -e "$pe_netns" ]; then
        ip netns delete "$pe_ns" || st=1
    fi
    return $st
}
