package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sagaflow/sagaflow/internal/sagaclient"

	"golang.org/x/term"
)

// progress reports a batch's advance while it runs: a bar redrawn in place
// on a terminal, plain lines at intervals otherwise.
type progress struct {
	w        io.Writer
	bar      bool
	interval time.Duration
	total    int
	started  time.Time
	// kinds are the labels counted, in the order they print.
	kinds []string

	mu     sync.Mutex
	done   int
	counts map[string]int

	stop chan struct{}
	wg   sync.WaitGroup
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// startProgress starts reporting sagas' outcomes (sagaclient.Kinds) on w;
// finish stops it. A bar is drawn when bar is true, plain lines every
// interval otherwise.
func startProgress(w io.Writer, total int, bar bool, interval time.Duration) *progress {
	return startProgressOf(w, total, bar, interval, sagaclient.Kinds)
}

// startProgressOf is startProgress counting the labels kinds.
func startProgressOf(w io.Writer, total int, bar bool, interval time.Duration, kinds []string) *progress {
	p := &progress{w: w, bar: bar, interval: interval, total: total, started: time.Now(), kinds: kinds,
		counts: map[string]int{}, stop: make(chan struct{})}
	if bar {
		p.interval = 100 * time.Millisecond
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.render(false)
			}
		}
	}()
	return p
}

// add counts one saga that ended with the outcome kind (one of p's kinds).
func (p *progress) add(kind string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.counts[kind]++
}

// finish stops the reports and writes the last one.
func (p *progress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.render(true)
}

func (p *progress) render(last bool) {
	p.mu.Lock()
	done, counts := p.done, p.countsText()
	p.mu.Unlock()
	elapsed := time.Since(p.started).Truncate(100 * time.Millisecond)
	if !p.bar {
		fmt.Fprintf(p.w, "progress: %d/%d done (%s) after %s\n", done, p.total, counts, elapsed)
		return
	}
	const width = 30
	filled := width
	if p.total > 0 {
		filled = done * width / p.total
	}
	fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d  %s  %s", strings.Repeat("█", filled), strings.Repeat("░", width-filled),
		done, p.total, counts, elapsed)
	if last {
		fmt.Fprintln(p.w)
	}
}

// countsText renders the counts so far: "completed 30, compensated 12".
func (p *progress) countsText() string {
	var parts []string
	for _, k := range p.kinds {
		if n := p.counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(parts) == 0 {
		return "none yet"
	}
	return strings.Join(parts, ", ")
}
