package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/logs"
	"github.com/golive/golive/plans"
)

const logsUsage = `Usage: golive logs [--plan PLAN] [--no-follow] [--tail N] [--since DURATION] [--errors] [--json] SOURCE...

SOURCE is a file path, container:NAME or service:NAME (with --plan). With
--plan and no SOURCE, every service of the plan and its logs.files are read;
a plan with hosts: reads every service on every host, each line's source
named service@host (service:NAME@HOST reads one host).
Lines are sanitized (no escape sequence reaches your terminal), secrets of
the plan are masked, and each line gets a level: error, warn, info, debug
or none. A container is followed by name: after a deploy or a revert the
stream moves to the new container, and no line is lost or repeated.

  --plan PLAN       the plan whose services, logs: patterns and secrets to use
  --no-follow       print every line there is now, source by source, and exit
  --tail N          only the last N lines of what is there now (per source,
                    after --errors; 0: none), then follow unless --no-follow
  --since DURATION  containers: only lines newer than this, e.g. 10m
  --errors          only error-level lines, with their stack traces
  --json            one JSON object per line: time, source, stream, level, line

Without --tail, a container's log is printed from its first line (its
deploy) and a file is followed from its end. Exit status 0 when everything
asked for was printed, 2 when a SOURCE names no file, container:NAME or
service of the plan, 5 when a source could not be read.
`

func runLogs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("golive logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, logsUsage) }
	planPath := fs.String("plan", "", "plan file")
	noFollow := fs.Bool("no-follow", false, "print what is there and exit")
	tailN := fs.Int("tail", 0, "only the last N lines of what is there")
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
	if *tailN < 0 {
		fmt.Fprintln(stderr, "golive logs: --tail needs a number of lines, 0 or more")
		return exitUsage
	}
	if *since < 0 {
		fmt.Fprintln(stderr, "golive logs: --since needs a duration back from now, e.g. 10m")
		return exitUsage
	}
	tail := -1 // no --tail: every line
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "tail" {
			tail = *tailN
		}
	})
	// Text output shows no times: a plain read can spare the engine its timestamps.
	opts := logs.FollowOptions{Follow: !*noFollow, FromStart: *tailN > 0, OneByOne: *noFollow, NoTimes: *noFollow && !*asJSON, Tail: *tailN}
	if *since > 0 {
		opts.Since = time.Now().Add(-*since)
	}
	if tail == 0 && opts.Since.IsZero() {
		// No line of what is there now: the lines from now on. The engine
		// has no tail of 0 for a Swarm service (0 is its whole history).
		opts.Since = time.Now()
	}
	var plan *plans.Plan
	var masker *plans.Masker
	if *planPath != "" {
		if plan, err = plans.Load(*planPath); err != nil {
			fmt.Fprintln(stderr, err)
			return exitUsage
		}
		masker = plans.NewMasker(plan, os.LookupEnv)
		planOpts, err := plan.LogOptions(masker)
		if err != nil {
			fmt.Fprintln(stderr, "golive logs:", err)
			return exitUsage
		}
		opts.Patterns, opts.Secrets, opts.OnContainer = planOpts.Patterns, planOpts.Secrets, planOpts.OnContainer
	}
	ctx, stop := interruptible(io.Discard)
	defer stop()
	var hostClients map[string]logs.ContainerLogs
	if plan != nil && plan.HasHosts() {
		clients, failed := reachHosts(ctx, plan)
		defer closeHosts(clients)
		for _, name := range plan.HostNames() {
			if err := failed[name]; err != nil {
				fmt.Fprintf(stderr, "golive logs: host %s cannot be reached, its services' logs are left out: %v\n", name, err)
			}
		}
		if len(clients) == 0 {
			fmt.Fprintln(stderr, "golive logs: no host of the plan answers; start their Docker engines or fix their URLs under hosts:")
			return exitEnvironment
		}
		hostClients = map[string]logs.ContainerLogs{}
		for name, c := range clients {
			hostClients[name] = c
			if cts, err := c.List(ctx, map[string]string{plans.LabelProject: plan.Project}); err == nil {
				for _, ct := range cts {
					masker.AddEnv(ct.Spec.Env)
				}
			}
		}
	}
	sources, code := logSources(plan, args, hostClients, stderr)
	if code != exitOK {
		return code
	}
	if *since > 0 {
		for _, src := range sources {
			if src.Path != "" {
				fmt.Fprintf(stderr, "golive logs: --since applies to containers; %s is read without it (its lines carry no time golive can trust)\n", src.Name)
			}
		}
	}
	var cli *docker.Client
	for _, src := range sources {
		if (src.Container != "" || src.Service != "") && src.Engine == nil && cli == nil {
			host := ""
			if plan != nil {
				host = plan.Docker.Host
			}
			if cli, err = docker.Connect(ctx, host); err != nil {
				fmt.Fprintln(stderr, "golive logs:", err)
				return exitEnvironment
			}
			defer cli.Close()
		}
	}
	// A container named on the command line must be there: like a missing
	// file, a mistyped name is said at once rather than waited for.
	for _, arg := range args {
		if name, ok := strings.CutPrefix(arg, "container:"); ok {
			ct, err := cli.Inspect(ctx, name)
			if err != nil {
				fmt.Fprintln(stderr, "golive logs:", err)
				return exitEnvironment
			}
			if ct == nil {
				fmt.Fprintf(stderr, "golive logs: no container named %s (docker ps -a lists them)\n", logs.Label(name))
				return exitUsage
			}
		}
	}
	if cli != nil && masker != nil {
		// The containers kept for a revert hold the previous values of secrets.
		if cts, err := cli.List(ctx, map[string]string{plans.LabelProject: plan.Project}); err == nil {
			for _, ct := range cts {
				masker.AddEnv(ct.Spec.Env)
			}
		}
	}
	out := newLogPrinter(stdout, *asJSON, isTerminal(stdout) && os.Getenv("NO_COLOR") == "", tail)
	if *errorsOnly {
		out.minLevel = logs.LevelError
	}
	opts.CaughtUp = out.caughtUp
	status := exitOK
	var mu sync.Mutex
	opts.OnError = func(source string, err error) {
		mu.Lock()
		defer mu.Unlock()
		out.flush()
		fmt.Fprintf(stderr, "golive logs: %s: %s\n", source, logs.SanitizeString(err.Error()))
		status = exitEnvironment
	}
	var api logs.ContainerLogs
	if cli != nil {
		api = cli
	}
	if opts.Follow {
		// Output that cannot be written ends the follow: nothing would show.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go out.flushEvery(ctx, cancel, 50*time.Millisecond)
	}
	logs.Follow(ctx, api, sources, opts, out)
	if err := out.flush(); err != nil && status == exitOK && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "golive logs:", err)
		status = exitEnvironment
	}
	return status
}

// logSources turns the SOURCE arguments (or, with none, the plan) into
// sources; hosts holds a client per host of a plan with hosts:.
func logSources(plan *plans.Plan, args []string, hosts map[string]logs.ContainerLogs, stderr io.Writer) ([]logs.Source, int) {
	var sources []logs.Source
	planSources := func() []logs.Source {
		if hosts != nil {
			return plan.HostLogSources(hosts)
		}
		return plan.LogSources()
	}
	if plan != nil && len(args) == 0 {
		for _, src := range planSources() {
			if src.Container != "" || src.Service != "" {
				src.Name = "service:" + src.Name
			}
			sources = append(sources, src)
		}
		return sources, exitOK
	}
	if len(args) == 0 {
		fmt.Fprint(stderr, "golive logs: name at least one SOURCE, or --plan\n\n"+logsUsage)
		return nil, exitUsage
	}
	for _, arg := range args {
		kind, name, found := strings.Cut(arg, ":")
		switch {
		case found && kind == "container":
			sources = append(sources, logs.Source{Name: logs.Label(arg), Container: name})
		case found && kind == "service":
			if plan == nil {
				fmt.Fprintf(stderr, "golive logs: %s needs --plan\n", arg)
				return nil, exitUsage
			}
			svcName, host, onHost := strings.Cut(name, "@")
			svc := plan.Service(svcName)
			if svc == nil {
				fmt.Fprintf(stderr, "golive logs: the plan has no service %q\n", svcName)
				return nil, exitUsage
			}
			if plan.Docker.Swarm {
				sources = append(sources, logs.Source{Name: arg, Service: plan.SwarmName(svc)})
				continue
			}
			if hosts == nil {
				sources = append(sources, logs.Source{Name: arg, Container: svc.ContainerName(plan.Project)})
				continue
			}
			n := len(sources)
			for _, src := range plan.HostLogSources(hosts) {
				if src.Name == name || !onHost && strings.HasPrefix(src.Name, svcName+"@") {
					src.Name = "service:" + src.Name
					sources = append(sources, src)
				}
			}
			if len(sources) == n && (!onHost || slices.Contains(plan.ServiceHosts(svc), host)) {
				why := "none of its hosts answers (" + strings.Join(plan.ServiceHosts(svc), ", ") + ")"
				if onHost {
					why = "host " + host + " does not answer"
				}
				fmt.Fprintf(stderr, "golive logs: %s cannot be read: %s\n", arg, why)
				return nil, exitEnvironment
			}
			if len(sources) == n {
				fmt.Fprintf(stderr, "golive logs: service %s does not run on host %q (hosts: %s)\n", svcName, host, strings.Join(plan.ServiceHosts(svc), ", "))
				return nil, exitUsage
			}
		default:
			fi, err := os.Stat(arg)
			if err != nil {
				fmt.Fprintf(stderr, "golive logs: %v (a SOURCE is a file, container:NAME or service:NAME)\n", logs.LabelPathError(err))
				return nil, exitUsage
			}
			if fi.IsDir() {
				fmt.Fprintf(stderr, "golive logs: %s is a directory: name the log files in it (e.g. %s)\n", logs.Label(arg), logs.Label(filepath.Join(arg, "*.log")))
				return nil, exitUsage
			}
			sources = append(sources, logs.Source{Name: logs.Label(arg), Path: arg})
		}
	}
	return sources, exitOK
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(f.Fd())
}

// logPrinter prints ingested lines as text or JSON as they come: nothing
// is kept but, with a tail, the last lines of each source until it has
// read what was there.
type logPrinter struct {
	mu       sync.Mutex
	w        *bufio.Writer
	err      error
	json     bool
	minLevel logs.Level
	tags     [logs.LevelError + 1]string // what stands between a line's source and its text, per level
	tail     int                         // lines kept of each source's history; -1: all of them
	pending  map[string]*tailRing        // sources still reading their history, with a tail
	caught   map[string]bool
	line     []byte
}

// tailRing keeps the last lines of a source, formatted.
type tailRing struct {
	lines [][]byte
	next  int // the oldest line once the ring is full
}

func newLogPrinter(w io.Writer, asJSON, color bool, tail int) *logPrinter {
	p := &logPrinter{w: bufio.NewWriterSize(w, 256<<10), json: asJSON, tail: tail,
		pending: map[string]*tailRing{}, caught: map[string]bool{}}
	for l := range p.tags {
		p.tags[l] = levelTag(logs.Level(l), color)
	}
	return p
}

// levelTag is a level's name padded to five columns between spaces,
// coloured on a terminal.
func levelTag(l logs.Level, color bool) string {
	name := fmt.Sprintf("%-5s", l)
	if c := levelColor(l); color && c != "" {
		name = c + name + "\x1b[0m"
	}
	return " " + name + " "
}

// levelColor is the colour of a level's name on a terminal ("" for none).
func levelColor(l logs.Level) string {
	switch l {
	case logs.LevelError:
		return "\x1b[1;31m"
	case logs.LevelWarn:
		return "\x1b[33m"
	case logs.LevelDebug:
		return "\x1b[2m"
	}
	return ""
}

// Append prints one line that passes the level filter.
func (p *logPrinter) Append(source, stream string, t time.Time, level logs.Level, cont bool, text []byte) {
	if level < p.minLevel {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.json && (p.tail < 0 || p.caught[source]) {
		// Straight into the writer's buffer: the text is copied once.
		p.w.WriteString(source)
		p.w.WriteString(p.tags[level])
		p.w.Write(text)
		p.w.WriteByte('\n')
		return
	}
	p.line = p.format(p.line[:0], source, stream, t, level, text)
	p.emit(source)
}

// AppendDropped prints a marker for lines lost at source.
func (p *logPrinter) AppendDropped(source string, t time.Time, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		p.line = p.jsonLine(p.line[:0], source, "", t, "none", nil, n)
	} else {
		p.line = fmt.Appendf(p.line[:0], "%s ⋯ %d lines missed here\n", source, n)
	}
	p.emit(source)
}

func (p *logPrinter) emit(source string) {
	if p.tail < 0 || p.caught[source] {
		p.write(p.line)
		return
	}
	if p.tail == 0 {
		return
	}
	r := p.pending[source]
	if r == nil {
		r = &tailRing{}
		p.pending[source] = r
	}
	r.add(p.line, p.tail)
}

// add keeps a copy of line, dropping the oldest once n are kept. The ring
// grows with the lines there are, not with n: --tail may ask for more
// lines than any log holds.
func (r *tailRing) add(line []byte, n int) {
	if len(r.lines) < n {
		r.lines = append(r.lines, slices.Clone(line))
		return
	}
	r.lines[r.next] = append(r.lines[r.next][:0], line...)
	r.next = (r.next + 1) % len(r.lines)
}

// caughtUp prints a source's tail: from now on its lines print as they come.
func (p *logPrinter) caughtUp(source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.caught[source] {
		return
	}
	p.caught[source] = true
	r := p.pending[source]
	if r == nil {
		return
	}
	delete(p.pending, source)
	for _, l := range r.lines[r.next:] { // the oldest first
		p.write(l)
	}
	for _, l := range r.lines[:r.next] {
		p.write(l)
	}
}

func (p *logPrinter) write(b []byte) {
	if p.err == nil {
		_, p.err = p.w.Write(b)
	}
}

func (p *logPrinter) format(b []byte, source, stream string, t time.Time, level logs.Level, text []byte) []byte {
	if p.json {
		return p.jsonLine(b, source, stream, t, level.String(), text, 0)
	}
	b = append(b, source...)
	b = append(b, p.tags[level]...)
	b = append(b, text...)
	return append(b, '\n')
}

func (p *logPrinter) jsonLine(b []byte, source, stream string, t time.Time, level string, text []byte, dropped int) []byte {
	rec := struct {
		Time    time.Time `json:"time"`
		Source  string    `json:"source"`
		Stream  string    `json:"stream,omitempty"`
		Level   string    `json:"level"`
		Line    string    `json:"line"`
		Dropped int       `json:"dropped,omitempty"`
	}{t.UTC(), source, stream, level, string(text), dropped}
	j, _ := json.Marshal(rec)
	b = append(b, j...)
	return append(b, '\n')
}

// flush writes out what is buffered; it returns the first write error.
func (p *logPrinter) flush() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = p.w.Flush()
	}
	return p.err
}

// flushEvery flushes while following, so lines show within d, until ctx
// ends; a write that fails calls stop.
func (p *logPrinter) flushEvery(ctx context.Context, stop context.CancelFunc, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if p.flush() != nil {
				stop()
				return
			}
		}
	}
}
