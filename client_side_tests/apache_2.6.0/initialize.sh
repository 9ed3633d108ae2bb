#!/bin/bash
# Run as root in the client node by `hdc client` (as the classic
# start_client.sh did): prepares the unprivileged test user's home with the
# scripts a client library's test run needs. The node already has the
# distribution's Hadoop client configured for the cluster (HADOOP_HOME,
# HADOOP_CONF_DIR) and /usr/local shared with the nodemanagers: install the
# library under test there (e.g. pip install --prefix /usr/local pydoop) so
# that its code reaches the MapReduce tasks too.
set -euo pipefail
user=${HDC_TEST_USER:-hdc}
home=$(getent passwd "$user" | cut -d: -f6)

cat >"$home/run_tests.sh" <<'SCRIPT'
#!/bin/bash
# An example test run as the unprivileged user: what a client library's
# suite does first, checking HDFS from this node. Replace the body with the
# library's own tests (e.g. `python -m pytest` in its checkout).
set -euo pipefail
hadoop version | head -1
dir=/user/$(id -un)/hdc-client-test
hdfs dfs -mkdir -p "$dir"
echo "written by $(id -un) on $(hostname)" | hdfs dfs -put - "$dir/hello-$$.txt"
hdfs dfs -cat "$dir/hello-$$.txt"
hdfs dfs -ls "$dir"
echo "run_tests.sh: all passed"
SCRIPT
chmod 755 "$home/run_tests.sh"
chown "$user" "$home/run_tests.sh"
echo "initialize.sh: $home/run_tests.sh is ready: su - $user -c ./run_tests.sh"
