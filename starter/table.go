package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sagaflow/sagaflow/workflows"
)

// table writes columns aligned with two spaces between them.
type table struct{ tw *tabwriter.Writer }

// newTable starts a table on w with the given header.
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

// row adds one row; an empty cell prints as "-".
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = orDash(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// flush writes the table out.
func (t *table) flush() { _ = t.tw.Flush() } // the writer is the user's terminal or a buffer

// kv writes "label  value" lines with the values aligned.
type kv struct{ tw *tabwriter.Writer }

func newKV(w io.Writer) *kv { return &kv{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)} }

func (k *kv) add(label, value string) { fmt.Fprintf(k.tw, "  %s\t%s\n", label, value) }

func (k *kv) flush() { _ = k.tw.Flush() } // the writer is the user's terminal or a buffer

// writeSteps prints the steps of a saga: status, attempts, the barrier's
// outcome, the compensation and its outcome, the last error.
func writeSteps(w io.Writer, s workflows.SagaState) {
	t := newTable(w, "STEP", "STATUS", "ATTEMPTS", "OUTCOME", "COMPENSATION", "COMP. OUTCOME", "LAST ERROR")
	for _, st := range s.Steps {
		attempts := ""
		if st.Attempts > 0 {
			attempts = strconv.Itoa(st.Attempts)
		}
		t.row(st.Name, string(st.Status), attempts, st.Outcome, st.Compensation, st.CompensationOutcome, oneLine(st.LastError, 80))
	}
	t.flush()
}

// money renders minor units as a decimal amount: 12345 -> "123.45".
func money(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// oneLine keeps the first line of s, cut to max runes.
func oneLine(s string, max int) string {
	s, _, _ = strings.Cut(s, "\n")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
