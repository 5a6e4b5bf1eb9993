//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/painterc/painterc/internal/orttest"
	"github.com/painterc/painterc/runtime"
	"github.com/painterc/painterc/sweep"
)

// requireSlurm skips the test when Slurm and MUNGE are not installed (or we
// are not root, which a one-node cluster with SlurmUser=root needs), and
// fails instead under PAINTERC_REQUIRE_SLURM=1, which .ci/run sets.
func requireSlurm(t *testing.T) {
	t.Helper()
	var missing []string
	for _, p := range []string{"munged", "slurmctld", "slurmd", "sbatch", "scontrol", "scancel"} {
		if _, err := exec.LookPath(p); err != nil {
			if _, err := os.Stat("/usr/sbin/" + p); err != nil {
				missing = append(missing, p)
			}
		}
	}
	why := ""
	switch {
	case len(missing) > 0:
		why = "Slurm or MUNGE is not installed (no " + strings.Join(missing, ", ") + "; Debian: apt-get install slurm-wlm munge)"
	case os.Geteuid() != 0:
		why = "the one-node Slurm cluster runs slurmctld and slurmd as root (SlurmUser=root), and this test is not root"
	}
	if why == "" {
		return
	}
	if os.Getenv("PAINTERC_REQUIRE_SLURM") == "1" {
		t.Fatal(why)
	}
	t.Skip(why + " (set PAINTERC_REQUIRE_SLURM=1 to fail instead)")
}

func sbin(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return "/usr/sbin/" + name
}

// freePort returns a loopback TCP port nobody listens on now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// cluster is a one-node Slurm cluster on localhost in a temporary
// directory: its own MUNGE key and socket, slurm.conf, state, spool and logs.
type cluster struct {
	dir, conf string
	env       []string
	procs     []*exec.Cmd
}

func (c *cluster) start(t *testing.T, name string, args ...string) {
	t.Helper()
	log, err := os.Create(filepath.Join(c.dir, "log", filepath.Base(name)+".out"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = c.env, log, log
	// Pdeathsig: a test binary killed by go test's -timeout runs no
	// cleanup, and the daemons must not outlive it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	c.procs = append(c.procs, cmd)
}

// logs returns the daemons' logs, for a failure message.
func (c *cluster) logs() string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(c.dir, "log", "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "==> %s <==\n%s\n", f, data)
	}
	return b.String()
}

func (c *cluster) cmd(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.env
	return cmd.CombinedOutput()
}

// stop cancels what is left and ends the daemons, newest first.
func (c *cluster) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.cmd(ctx, "scancel", "--user=root")
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	// A short directory: the MUNGE socket's path must fit in sun_path.
	dir, err := os.MkdirTemp("", "slurm-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &cluster{dir: dir, conf: filepath.Join(dir, "slurm.conf")}
	for _, d := range []string{"munge", "state", "spool", "log"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(dir, 0o755)
	key := make([]byte, 1024)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "munge", "munge.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "munge", "munge.socket.2")
	conf := fmt.Sprintf(`ClusterName=painterc
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=%[1]s
CredType=cred/munge
SlurmctldPort=%[3]d
SlurmdPort=%[4]d
StateSaveLocation=%[2]s/state
SlurmdSpoolDir=%[2]s/spool
SlurmctldPidFile=%[2]s/slurmctld.pid
SlurmdPidFile=%[2]s/slurmd.pid
SlurmctldLogFile=%[2]s/log/slurmctld.log
SlurmdLogFile=%[2]s/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
ReturnToService=2
MinJobAge=3600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
`, sock, dir, freePort(t), freePort(t))
	if err := os.WriteFile(c.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = append(os.Environ(), "SLURM_CONF="+c.conf, runtime.LibraryEnv+"="+runtime.LibraryPath())
	t.Cleanup(c.stop)

	c.start(t, sbin("munged"), "-F", "-f", "--key-file="+filepath.Join(dir, "munge", "munge.key"), "--socket="+sock,
		"--pid-file="+filepath.Join(dir, "munge", "munged.pid"), "--log-file="+filepath.Join(dir, "log", "munged.log"),
		"--seed-file="+filepath.Join(dir, "munge", "munged.seed"))
	waitFor(t, c, 20*time.Second, "the MUNGE socket", func() bool { _, err := os.Stat(sock); return err == nil })
	c.start(t, sbin("slurmctld"), "-D", "-f", c.conf)
	c.start(t, sbin("slurmd"), "-D", "-N", "localhost", "-f", c.conf)
	waitFor(t, c, 60*time.Second, "the node to come up idle", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		out, err := c.cmd(ctx, "scontrol", "show", "node", "localhost")
		return err == nil && bytes.Contains(out, []byte("State=IDLE"))
	})
	return c
}

func waitFor(t *testing.T, c *cluster, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s\n%s", limit, what, c.logs())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// jobState is a job's JobState as scontrol shows it (every task of an
// array: one state per task).
func jobState(c *cluster, id string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := c.cmd(ctx, "scontrol", "show", "job", id)
	if err != nil {
		return nil
	}
	var states []string
	for _, f := range strings.Fields(string(out)) {
		if s, ok := strings.CutPrefix(f, "JobState="); ok {
			states = append(states, s)
		}
	}
	return states
}

// buildPainterc builds the painterc binary the jobs run.
func buildPainterc(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "painterc")
	gobin := filepath.Join(goruntime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSlurmSweep starts a one-node Slurm cluster on localhost, submits a
// 4-shard sweep with scripts/slurm-sweep.sh (an array job and a merge job
// that depends on it), waits for both, and compares the merged results with
// a single-process run of the same sweep.
func TestSlurmSweep(t *testing.T) {
	requireSlurm(t)
	orttest.Require(t)
	if testing.Short() {
		t.Skip("starts a Slurm cluster: not in -short")
	}
	bin := buildPainterc(t)
	model, tasks := writeSweepFixture(t)
	c := startCluster(t)
	out := filepath.Join(c.dir, "sweep") // on the one node's file system
	flags := []string{"--passes", "skip,reverse,parallel,looped-parallel", "--task", tasks[0], "--task", tasks[1]}
	script, err := filepath.Abs("../../scripts/slurm-sweep.sh")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sub, err := c.cmd(ctx, "bash", append([]string{script, "-b", bin, "4", out, model}, flags...)...)
	if err != nil {
		t.Fatalf("slurm-sweep.sh: %v\n%s", err, sub)
	}
	f := strings.Fields(string(sub))
	if len(f) != 4 || f[0] != "shards" || f[2] != "merge" {
		t.Fatalf("slurm-sweep.sh printed %q", sub)
	}
	shards, merge := f[1], f[3]
	t.Logf("array job %s, merge job %s", shards, merge)
	waitFor(t, c, 180*time.Second, "the merge job to complete", func() bool {
		st := jobState(c, merge)
		if len(st) == 1 && (st[0] == "FAILED" || st[0] == "CANCELLED" || st[0] == "TIMEOUT") {
			logs, _ := filepath.Glob(filepath.Join(out, "slurm", "*.out"))
			var b strings.Builder
			for _, l := range logs {
				data, _ := os.ReadFile(l)
				fmt.Fprintf(&b, "==> %s <==\n%s\n", l, data)
			}
			t.Fatalf("merge job %s: %s; shards %v\n%s\n%s", merge, st[0], jobState(c, shards), b.String(), c.logs())
		}
		return len(st) == 1 && st[0] == "COMPLETED"
	})
	if st := jobState(c, shards); len(st) != 4 || slices.ContainsFunc(st, func(s string) bool { return s != "COMPLETED" }) {
		t.Errorf("array job states %v, want 4 x COMPLETED", st)
	}
	for i := range 4 {
		if _, err := os.Stat(filepath.Join(out, fmt.Sprintf("shard-%d-of-4", i), sweep.ResultsFile)); err != nil {
			t.Errorf("shard %d: %v", i, err)
		}
	}
	mergeLog, _ := os.ReadFile(filepath.Join(out, "slurm", "merge.out"))
	if !strings.HasPrefix(string(mergeLog), "merged 4 shards: ") {
		t.Errorf("merge.out: %q", mergeLog)
	}

	single := t.TempDir()
	mustSucceed(t, cli(t, append([]string{"sweep", model, "--out", single, "-q"}, flags...)...))
	if a, b := sortedFileLines(t, filepath.Join(single, sweep.ResultsFile)), sortedFileLines(t, filepath.Join(out, sweep.ResultsFile)); !slices.Equal(a, b) {
		t.Errorf("the Slurm sweep's merged results differ from a single-process run:\nsingle %d rows, merged %d rows", len(a), len(b))
	}
	if a, b := readFile(t, filepath.Join(single, sweep.CSVFile)), readFile(t, filepath.Join(out, sweep.CSVFile)); !bytes.Equal(a, b) {
		t.Errorf("results.csv differs between the Slurm sweep and a single-process run")
	}
}
