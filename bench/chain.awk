# chain.awk: the services' own chain of one cluster, from their logs: what a
# bring-up could not go faster than once the containers run, whatever the
# engine does.
#
#   awk -f bench/chain.awk -v dag=STEPS -v services=SERVICES -v probes=PROBES \
#       -v execs=EXECS NODES
#
# STEPS, SERVICES, PROBES: `plugin_dump PLUGIN.so steps|services|probes`.
# EXECS: "step ms" per EXEC step, the command's own run time (measured by the
# caller). NODES: "service<TAB>hostname<TAB>file" per node of the cluster
# (ZooKeeper left out), file being `docker logs -t` of its container.
#
# For each node, from its log (the Docker daemon's timestamp on each line;
# a daemon line's own log4j time "YYYY-MM-DD HH:MM:SS,mmm" when it has one
# within 2 s before it, since the daemon's pipe may be read late):
#   boot    hdc-agent's "/X = boot: starting"
#   ready   when the readiness the agent checks first held, from the
#           daemon's own lines: the first after boot naming the ready port
#           (":50070", as "Web server up at http://0.0.0.0:50070/"), and for
#           a `hdfs dfsadmin -safemode` check the line "Safe mode is OFF";
#           the later of the two. A condition with no such line falls back
#           to the agent's "ready: wrote /X = up" (counted in "fallback").
#   registrations  the daemon's lines saying a worker registered
#           ("Registered datanode", "registerDatanode", "NodeManager ...
#           registered"), in order.
# Step weights, then the longest path through the step DAG:
#   BOOT    0
#   WAIT S  the slowest instance of S: ready - boot
#   EXEC    the command's own run time (EXECS)
#   PROBE   for a probe that counts the instances of a worker service W on
#           a master M: the time from the later of M's and W's ready to M's
#           line registering the last of W's instances (worker registration,
#           seen in the master's own log); 0 when it came first. Other
#           probes: 0 (their condition holds once the service is ready).
#           A registration not found in the log counts 0 ("missing").
# Prints: "chain MS", "path step=MS > step=MS ...", "w STEP MS" for every
# step, "own SERVICE MS" (slowest boot->ready), "fallback N", "missing N".

# Days since 1970-01-01 of a civil date (H. Hinnant's algorithm): awk's own
# mktime is not in every awk, and this runs on thousands of lines.
function days(y, m, d,   era, yoe, doy, doe) {
    y -= (m <= 2)
    era = int((y >= 0 ? y : y - 399) / 400)
    yoe = y - era * 400
    doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
    doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
    return era * 146097 + doe - 719468
}
# Epoch ms of "YYYY-MM-DD" and "HH:MM:SS[.,]fraction" (UTC).
function ms_of(date, time,   a, b) {
    split(date, a, "-")
    split(time, b, /[:.,]/)
    return ((days(a[1] + 0, a[2] + 0, a[3] + 0) * 24 + b[1]) * 60 + b[2]) * 60000 + b[3] * 1000 + substr(b[4] "000", 1, 3)
}
function max(a, b) { return a > b ? a : b }

BEGIN {
    FS = "\t"
    n = 0
    while ((getline l < dag) > 0) {
        split(l, a, " ")
        step[++n] = a[1]; kind[a[1]] = a[2]; svc[a[1]] = a[3]; after[a[1]] = a[4]; probe[a[1]] = a[5]
    }
    while ((getline l < services) > 0) {
        split(l, a, "\t")
        port[a[1]] = a[3] + 0
        # a readiness command whose moment the daemon logs (the namenode's)
        cmdpat[a[1]] = a[4] ~ /safemode/ ? "Safe mode is OFF" : (a[4] == "-" ? "" : "?")
    }
    while ((getline l < probes) > 0) { split(l, a, "\t"); pmaster[a[1]] = a[2]; pworker[a[1]] = a[3] }
    while ((getline l < execs) > 0) { split(l, a, " "); execw[a[1]] = a[2] + 0 }
    fallback = 0; missing = 0
}

# One node: read its log.
{
    s = $1; h = $2; file = $3
    hosts[s] = hosts[s] " " h; count[s]++; master[s] = h
    booted = 0; pt = ""; ct = ""; up = ""; nreg = 0
    while ((getline line < file) > 0) {
        sp = index(line, " ")
        ts = substr(line, 1, sp - 1); msg = substr(line, sp + 1)
        if (ts !~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T/) continue
        t = ms_of(substr(ts, 1, 10), substr(ts, 12))
        if (msg ~ /^hdc-agent\[/) {
            if (!booted && index(msg, "= boot: starting")) { boot[h] = t; booted = 1 }
            else if (booted && up == "" && index(msg, "ready: wrote /")) up = t
            continue
        }
        if (!booted) continue
        if (msg ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9],[0-9][0-9][0-9]/) {
            own = ms_of(substr(msg, 1, 10), substr(msg, 12, 12))
            if (own <= t && own >= t - 2000) t = own
        }
        if (port[s] && pt == "" && msg ~ (":" port[s] "([^0-9]|$)")) pt = t
        if (cmdpat[s] != "" && cmdpat[s] != "?" && ct == "" && index(msg, cmdpat[s])) ct = t
        if (msg ~ /Registered datanode|registerDatanode|NodeManager from node .* registered/) reg[h, ++nreg] = t
    }
    close(file)
    if (!booted) { missing++; next }
    # ready: the later of the port's line and the command's line; a part
    # with no line is the agent's "up"
    r = 0
    if (port[s]) { if (pt == "") { pt = up; fallback++ } r = max(r, pt) }
    if (cmdpat[s] != "") { if (ct == "") { ct = up; fallback++ } r = max(r, ct) }
    if (!port[s] && cmdpat[s] == "") r = up
    ready[h] = r
    if (!(s in ownms) || r - boot[h] > ownms[s]) ownms[s] = r - boot[h]
    if (r > readys[s] + 0) readys[s] = r
}

END {
    for (i = 1; i <= n; i++) {
        x = step[i]; w[x] = 0
        if (kind[x] == 2) w[x] = ownms[svc[x]] + 0
        else if (kind[x] == 3) w[x] = execw[x] + 0
        else if (kind[x] == 4 && pworker[probe[x]] != "-" && pworker[probe[x]] != "") {
            m = pmaster[probe[x]]; wk = pworker[probe[x]]
            if ((master[m], count[wk]) in reg) {
                w[x] = reg[master[m], count[wk]] - max(readys[m], readys[wk])
                if (w[x] < 0) w[x] = 0
            } else missing++
        }
    }
    # longest path by relaxation (n rounds reach every path of a DAG of n steps)
    for (it = 0; it <= n; it++)
        for (i = 1; i <= n; i++) {
            x = step[i]; best = 0; from = ""
            if (after[x] != "-") {
                k = split(after[x], p, ",")
                for (j = 1; j <= k; j++) if (from == "" || d[p[j]] > best) { best = d[p[j]]; from = p[j] }
            }
            d[x] = best + w[x]; prev[x] = from
        }
    top = ""
    for (i = 1; i <= n; i++) if (top == "" || d[step[i]] > d[top]) top = step[i]
    path = ""
    for (x = top; x != ""; x = prev[x]) if (w[x] > 0 || kind[x] == 2) path = x "=" w[x] (path == "" ? "" : " > ") path
    printf "chain %d\npath %s\n", d[top], path
    for (i = 1; i <= n; i++) printf "w %s %d\n", step[i], w[step[i]]
    for (s in ownms) printf "own %s %d\n", s, ownms[s]
    printf "fallback %d\nmissing %d\n", fallback, missing
}
