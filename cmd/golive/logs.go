package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

const logsUsage = `Usage: golive logs [--plan PLAN] [--no-follow] [--since DURATION] [--errors] [--json] SOURCE...

SOURCE is a file path, container:NAME or service:NAME (with --plan). With
--plan and no SOURCE, every service of the plan and its logs.files are read.
Lines are sanitized (no escape sequence reaches your terminal) and get a
level: error, warn, info, debug or none.

  --plan PLAN       the plan whose services and logs: patterns to use
  --no-follow       print what is there (up to 10,000 lines per source) and exit
  --since DURATION  only lines newer than this, e.g. 10m (containers)
  --errors          only error-level lines, with their stack traces
  --json            one JSON object per line: time, source, stream, level, line
`

// logSource is one thing to read lines from.
type logSource struct {
	name string
	run  func(ctx context.Context, sink logs.Sink) error
}

func runLogs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("golive logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage) }
	planPath := fs.String("plan", "", "plan file")
	noFollow := fs.Bool("no-follow", false, "print what is there and exit")
	since := fs.Duration("since", 0, "only lines newer than this")
	errorsOnly := fs.Bool("errors", false, "only error-level lines")
	asJSON := fs.Bool("json", false, "JSON output")
	args, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	var plan *plans.Plan
	var patterns *logs.Patterns
	if *planPath != "" {
		if plan, err = plans.Load(*planPath); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		if patterns, err = logs.CompilePatterns(plan.Logs.Errors, plan.Logs.Warnings); err != nil {
			fmt.Fprintln(stderr, "golive logs:", err)
			return exitUsage
		}
		if len(args) == 0 {
			for _, s := range plan.Services {
				args = append(args, "service:"+s.Name)
			}
			for _, f := range plan.Logs.Files {
				args = append(args, plan.Resolve(f))
			}
		}
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, "golive logs: name at least one SOURCE, or --plan\n\n"+logsUsage)
		return exitUsage
	}
	ctx, stop := interruptible(io.Discard)
	defer stop()
	var cli *docker.Client
	connect := func() (*docker.Client, error) {
		if cli != nil {
			return cli, nil
		}
		host := ""
		if plan != nil {
			host = plan.Docker.Host
		}
		c, err := docker.Connect(ctx, host)
		cli = c
		return c, err
	}
	follow := !*noFollow
	var from time.Time
	if *since > 0 {
		from = time.Now().Add(-*since)
	}
	var sources []logSource
	for _, arg := range args {
		kind, name, found := strings.Cut(arg, ":")
		switch {
		case found && (kind == "container" || kind == "service"):
			if kind == "service" {
				if plan == nil {
					fmt.Fprintf(stderr, "golive logs: %s needs --plan\n", arg)
					return exitUsage
				}
				svc := plan.Service(name)
				if svc == nil {
					fmt.Fprintf(stderr, "golive logs: the plan has no service %q\n", name)
					return exitUsage
				}
				name = svc.ContainerName(plan.Project)
			}
			c, err := connect()
			if err != nil {
				fmt.Fprintln(stderr, "golive logs:", err)
				return exitEnvironment
			}
			container := name
			sources = append(sources, logSource{name: arg, run: func(ctx context.Context, sink logs.Sink) error {
				return logs.FollowContainer(ctx, c, container, follow, from, sink)
			}})
		default:
			path := arg
			if _, err := os.Stat(path); err != nil {
				fmt.Fprintf(stderr, "golive logs: %v (a SOURCE is a file, container:NAME or service:NAME)\n", err)
				return exitUsage
			}
			sources = append(sources, logSource{name: path, run: func(ctx context.Context, sink logs.Sink) error {
				return logs.FollowFile(ctx, path, follow, false, sink)
			}})
		}
	}
	if cli != nil {
		defer cli.Close()
	}
	filter := &logs.Filter{}
	if *errorsOnly {
		filter.MinLevel = logs.LevelError
	}
	out := &lineWriter{w: stdout, json: *asJSON, color: isTerminal(stdout) && os.Getenv("NO_COLOR") == ""}
	buf := logs.NewBuffer(0)
	var sub *logs.Subscription
	done := make(chan struct{})
	if follow {
		sub = buf.Subscribe(8192)
		go func() {
			defer close(done)
			for l := range sub.C {
				if filter.Match(l) {
					out.write(l)
				}
			}
		}()
	}
	status := exitOK
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := logs.NewIngester(src.name, buf, patterns, 0)
			if err := src.run(ctx, in.Add); err != nil {
				mu.Lock()
				fmt.Fprintf(stderr, "golive logs: %s: %v\n", src.name, err)
				status = exitEnvironment
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if follow {
		sub.Close()
		<-done
		return status
	}
	for _, l := range buf.Window(0, buf.Len(), filter) {
		out.write(l)
	}
	return status
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// lineWriter prints log lines as text or JSON.
type lineWriter struct {
	w     io.Writer
	json  bool
	color bool
}

var levelColors = map[logs.Level]string{logs.LevelError: "\x1b[1;31m", logs.LevelWarn: "\x1b[33m", logs.LevelDebug: "\x1b[2m"}

func (o *lineWriter) write(l logs.Line) {
	if o.json {
		rec := struct {
			Time    time.Time `json:"time"`
			Source  string    `json:"source"`
			Stream  string    `json:"stream,omitempty"`
			Level   string    `json:"level"`
			Line    string    `json:"line"`
			Dropped int       `json:"dropped,omitempty"`
		}{l.Time.UTC(), l.Source, l.Stream, l.Level.String(), l.Text, l.Dropped}
		b, _ := json.Marshal(rec)
		fmt.Fprintf(o.w, "%s\n", b)
		return
	}
	if l.Dropped > 0 {
		fmt.Fprintf(o.w, "%s ⋯ %d lines dropped here (output too slow)\n", l.Source, l.Dropped)
		return
	}
	level := fmt.Sprintf("%-5s", l.Level)
	if c := levelColors[l.Level]; o.color && c != "" {
		level = c + level + "\x1b[0m"
	}
	fmt.Fprintf(o.w, "%s %s %s\n", l.Source, level, l.Text)
}
