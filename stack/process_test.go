package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestMatchCmdline(t *testing.T) {
	id := processIdentity{exe: "/repo/.tools/bin/temporal", marker: "/repo/.data/temporal/temporal.db"}
	argv := func(a ...string) []byte {
		var b []byte
		for _, s := range a {
			b = append(b, s...)
			b = append(b, 0)
		}
		return b
	}
	for _, tc := range []struct {
		name    string
		cmdline []byte
		want    bool
	}{
		{"ours", argv("/repo/.tools/bin/temporal", "server", "start-dev", "--db-filename", "/repo/.data/temporal/temporal.db"), true},
		{"other data dir", argv("/repo/.tools/bin/temporal", "server", "start-dev", "--db-filename", "/other/.data/temporal/temporal.db"), false},
		{"other binary", argv("/usr/bin/temporal", "--db-filename", "/repo/.data/temporal/temporal.db"), false},
		{"recycled pid running something else", argv("/bin/sleep", "100"), false},
		{"zombie or kernel thread", nil, false},
	} {
		if got := matchCmdline(tc.cmdline, id); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestIsOurProcessRefusesForeignPid(t *testing.T) {
	id := processIdentity{exe: "/repo/.tools/bin/temporal", marker: "/repo/.data"}
	// This test binary is alive but is not a server of ours.
	if isOurProcess("/proc", os.Getpid(), id) {
		t.Error("the test process was taken for ours")
	}
	// A pid that cannot exist.
	if isOurProcess("/proc", 1<<30, id) {
		t.Error("a missing pid was taken for ours")
	}
	if isOurProcess("/proc", 0, id) || isOurProcess("/proc", -1, id) {
		t.Error("a non-positive pid was taken for ours")
	}
}

func TestIsOurProcessFakeProc(t *testing.T) {
	root := t.TempDir()
	write := func(pid int, state, cmdline string) {
		dir := filepath.Join(root, strconv.Itoa(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		stat := strconv.Itoa(pid) + " (weird (name)) " + state + " 1 " + strconv.Itoa(pid) + " 0 0"
		os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644)
		os.WriteFile(filepath.Join(dir, "cmdline"), []byte(cmdline), 0o644)
	}
	id := processIdentity{exe: "/x/ferret", marker: "/d"}
	write(10, "S", "/x/ferret\x00-data-dir\x00/d/ferretdb\x00")
	write(11, "Z", "/x/ferret\x00-data-dir\x00/d/ferretdb\x00")
	write(12, "S", "/x/other\x00-data-dir\x00/d/ferretdb\x00")
	if !isOurProcess(root, 10, id) {
		t.Error("pid 10 should be ours")
	}
	if isOurProcess(root, 11, id) {
		t.Error("a zombie is not a running server")
	}
	if isOurProcess(root, 12, id) {
		t.Error("pid 12 runs another program")
	}
	if got := findProcesses(root, id); len(got) != 1 || got[0] != 10 {
		t.Errorf("findProcesses: got %v, want [10]", got)
	}
}

func TestParseProcStat(t *testing.T) {
	st, ok := parseProcStat([]byte("4242 (a ) b) S 1 4240 4240 0 -1 4194560"))
	if !ok || st.state != 'S' || st.pgid != 4240 {
		t.Errorf("got %+v %v", st, ok)
	}
	if _, ok := parseProcStat([]byte("garbage")); ok {
		t.Error("garbage parsed")
	}
}

func TestRunRecordRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := runRecord{pid: 1234, info: map[string]string{"port": "7233", "cluster": "/a/b"}}
	if err := writeRunRecord(dir, "x", in); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(pidFilePath(dir, "x"))
	if string(data[:5]) != "1234\n" {
		t.Errorf("pid file should start with the pid line, got %q", data)
	}
	out, err := readRunRecord(dir, "x")
	if err != nil {
		t.Fatal(err)
	}
	if out.pid != 1234 || out.info["port"] != "7233" || out.info["cluster"] != "/a/b" {
		t.Errorf("got %+v", out)
	}
	if _, err := parseRunRecord([]byte("not-a-pid\n")); err == nil {
		t.Error("want an error for a bad pid line")
	}
	if err := removeRunRecord(dir, "x"); err != nil {
		t.Fatal(err)
	}
	if err := removeRunRecord(dir, "x"); err != nil {
		t.Errorf("removing a missing pid file: %v", err)
	}
}

func TestStopProcessGroup(t *testing.T) {
	// A shell in its own session with a child: both must go.
	cmd := exec.Command("sh", "-c", "sleep 300 & sleep 300")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	pid := cmd.Process.Pid
	if !waitUntil(func() bool { return len(groupMembers("/proc", pid)) >= 3 }, 5*time.Second) {
		t.Fatalf("group %d: want a shell and two sleeps, got %v", pid, groupMembers("/proc", pid))
	}
	if err := stopProcessGroup("/proc", pid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if m := groupMembers("/proc", pid); len(m) != 0 {
		t.Errorf("still running: %v", m)
	}
	<-done
}
