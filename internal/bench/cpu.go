package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// CPUShare is the CPU each process used during a cell, in cores (1.0 is
// one core busy for the whole cell).
type CPUShare map[string]float64

// cpuProbe reads the CPU time of this process and of the stack's servers
// (their pid files in the run folder that `make up` writes), each with its
// descendants (PostgreSQL's backends).
type cpuProbe struct {
	pids map[string]int
}

// newCPUProbe finds the stack's processes; a server without a pid file
// (an external server) is left out.
func newCPUProbe(runDir string) cpuProbe {
	p := cpuProbe{pids: map[string]int{"bench": os.Getpid()}}
	if runDir == "" {
		return p
	}
	for _, name := range []string{"temporal", "postgres", "ferretdb"} {
		data, err := os.ReadFile(filepath.Join(runDir, name+".pid"))
		if err != nil {
			continue
		}
		line, _, _ := strings.Cut(string(data), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
			p.pids[name] = pid
		}
	}
	return p
}

// temporalFlags returns the storage and dynamic-config flags of the
// Temporal dev server's command line, as the report records them.
func (p cpuProbe) temporalFlags() []string {
	pid, ok := p.pids["temporal"]
	if !ok {
		return nil
	}
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return nil
	}
	args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
	var out []string
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--sqlite-pragma", "--dynamic-config-value":
			out = append(out, args[i]+" "+args[i+1])
		}
	}
	return out
}

// cpuSample is the CPU time used so far per process name.
type cpuSample struct {
	at    time.Time
	times map[string]time.Duration
}

// sample reads the CPU time of every probed process tree. A process that
// cannot be read counts as zero.
func (p cpuProbe) sample() cpuSample {
	s := cpuSample{at: time.Now(), times: map[string]time.Duration{}}
	procs := readProcs()
	children := map[int][]int{}
	for pid, st := range procs {
		children[st.ppid] = append(children[st.ppid], pid)
	}
	for name, root := range p.pids {
		var total time.Duration
		stack := []int{root}
		for len(stack) > 0 {
			pid := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			st, ok := procs[pid]
			if !ok {
				continue
			}
			total += st.cpu
			if pid == root {
				total += st.reaped // descendants that exited (PostgreSQL backends)
			}
			if pid != os.Getpid() {
				stack = append(stack, children[pid]...)
			}
		}
		s.times[name] = total
	}
	return s
}

// share returns the CPU used between from and to, in cores.
func share(from, to cpuSample) CPUShare {
	wall := to.at.Sub(from.at)
	out := CPUShare{}
	if wall <= 0 {
		return out
	}
	for name, t := range to.times {
		used := t - from.times[name]
		out[name] = float64(int(float64(used)/float64(wall)*100+0.5)) / 100
	}
	return out
}

type procStat struct {
	ppid   int
	cpu    time.Duration // utime + stime
	reaped time.Duration // cutime + cstime
}

// readProcs reads /proc/<pid>/stat of every process.
func readProcs() map[int]procStat {
	out := map[int]procStat{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, err := parseStat(data); err == nil {
			out[pid] = st
		}
	}
	return out
}

// parseStat parses /proc/<pid>/stat: after the command in parentheses come
// state, ppid, ..., utime (14th field), stime, cutime, cstime.
func parseStat(data []byte) (procStat, error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("malformed stat")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("malformed stat")
	}
	num := func(k int) int64 { v, _ := strconv.ParseInt(f[k], 10, 64); return v }
	// f[0] is field 3 (state): field n is f[n-3].
	return procStat{
		ppid:   int(num(1)),
		cpu:    time.Duration(num(11)+num(12)) * clockTick,
		reaped: time.Duration(num(13)+num(14)) * clockTick,
	}, nil
}

// loadAverage returns /proc/loadavg's first three fields.
func loadAverage() string {
	f, err := os.Open("/proc/loadavg")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return ""
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 3 {
		return ""
	}
	return strings.Join(fields[:3], " ")
}
