package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/golive/golive/internal/atomicfile"
	"github.com/golive/golive/plans/report"
)

const reportUsage = `Usage: golive report JOURNAL|DIR... [--format md|html] [-o FILE]

Turns journals (<state>/journal/*.jsonl) into a postmortem: summary, errors
per minute with deploys and reverts marked, services, error gates, steps
and timeline. Give every journal of the release (the apply's and the
revert's), or a folder to take every journal in it. When the journals hold
several releases, the newest (started last) is reported and a note names
every other. A journal cut short by a crash is reported as such; a
malformed line is named and skipped.

  --format md|html  Markdown (default) or one self-contained HTML file
  -o FILE           write to FILE instead of standard output
`

func runReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("golive report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage) }
	format := fs.String("format", "md", "md or html")
	out := fs.String("o", "", "output file")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(paths) == 0 {
		fmt.Fprint(stderr, "golive report: name at least one JOURNAL\n\n"+reportUsage)
		return exitUsage
	}
	if *format != "md" && *format != "html" {
		fmt.Fprintf(stderr, "golive report: --format is %q; use md or html\n", *format)
		return exitUsage
	}
	paths, err = expandJournalDirs(paths)
	if err != nil {
		fmt.Fprintln(stderr, "golive report:", err)
		return exitUsage
	}
	journals, err := report.ReadJournals(paths)
	if err != nil {
		fmt.Fprintln(stderr, "golive report:", err)
		return exitUsage
	}
	events := 0
	for _, j := range journals {
		events += len(j.Events)
	}
	if events == 0 {
		fmt.Fprintf(stderr, "golive report: no journal record in %s: name golive's journals (<state>/journal/*.jsonl, beside the plan in .golive by default)\n", strings.Join(paths, ", "))
		return exitUsage
	}
	r := report.Build(journals)
	doc := r.Markdown()
	if *format == "html" {
		if doc, err = r.HTML(); err != nil {
			fmt.Fprintln(stderr, "golive report:", err)
			return exitEnvironment
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if *out == "" {
		fmt.Fprint(stdout, doc)
		return exitOK
	}
	if err := atomicfile.Write(*out, []byte(doc)); err != nil {
		fmt.Fprintf(stderr, "golive report: write %s: %v\n", *out, err)
		return exitEnvironment
	}
	fmt.Fprintln(stdout, "wrote", *out)
	return exitOK
}

// expandJournalDirs replaces each folder among paths by the journals in it.
func expandJournalDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		if !fi.IsDir() {
			out = append(out, p)
			continue
		}
		found, err := filepath.Glob(filepath.Join(p, "*.jsonl"))
		if err != nil || len(found) == 0 {
			return nil, fmt.Errorf("%s holds no journal (*.jsonl)", p)
		}
		out = append(out, found...)
	}
	return out, nil
}
