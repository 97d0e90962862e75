// Command golive is a terminal release cockpit: it carries out a release
// plan against a Docker engine, headless or in the cockpit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/golive/golive/docker"
	"github.com/golive/golive/plans"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// Exit codes; documented in usage and the README.
const (
	exitOK          = 0
	exitFailed      = 1   // the release failed and was left as it is
	exitUsage       = 2   // invalid plan, flags or arguments
	exitReverted    = 3   // the release failed and was reverted
	exitLocked      = 4   // another release holds the lock
	exitEnvironment = 5   // Docker unreachable, preload failed, or similar: nothing changed
	exitInterrupted = 130 // interrupted by Ctrl-C or SIGTERM, after the on_failure action
)

const usage = `golive: a terminal release cockpit

Usage:
  golive PLAN [--record FILE.cast]   open the cockpit: preload, D deploys, R reverts, live logs
  golive watch PLAN [--state DIR]    the read-only cockpit for the pair: follows the plan's release (L: a newer one)
  golive check PLAN                  validate a plan file (and that each of its hosts: answers)
  golive import COMPOSE [-o PLAN] [--force] [--release NAME]
                                     write a plan from a compose file (or say compose: FILE in a plan)
  golive apply PLAN [--yes]          carry out the plan headless (preload, steps, deploy groups)
  golive revert PLAN [--yes]         put back what ran before the latest apply not completely
                                     reverted; finishes a revert that was cut short
  golive unlock PLAN [--yes|--force] break a stale release lock (never one whose process
                                     still runs on this machine)
  golive status PLAN                 show what each service runs now, a warm previous
                                     version and a route the proxy still holds
  golive logs [--plan PLAN] [--no-follow] [--tail N] [--since D] [--errors] [--json] SOURCE...
                                     follow logs of files, container:NAME or service:NAME
  golive report JOURNAL|DIR... [--format md|html] [-o FILE]
                                     write a postmortem from journals
  golive version                     print the version

Flags (after the command or the plan, in any order):
  --state DIR    state directory for journals (default: .golive beside the plan)
  --yes          answer yes to confirm steps, to the plan's confirm: true, to a revert that
                 removes a service, and to unlock (needed when not on a terminal)
  --force        unlock: break a lock held from another machine without asking
  --record FILE  cockpit and watch: record the session as an asciicast v2 file

Exit codes:
  0 success (also: revert with nothing to undo)
  1 the release failed and was left as it is (on_failure: stop), or its revert is
    incomplete (the message says what runs and the command that finishes it)
  2 invalid plan, flag or argument
  3 the release failed and was reverted
  4 another release holds the lock, broke it while this one ran, or took this
    release over with golive revert
  5 nothing was changed: Docker unreachable, preload failed, a step failed
    before anything changed, or a similar problem
  130 interrupted (after the on_failure action)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are the flags every plan command shares.
type options struct {
	state  string
	yes    bool
	force  bool
	record string
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	cmd, rest := args[0], args[1:]
	if isPlanFile(cmd) {
		cmd, rest = "cockpit", args
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "golive", version)
		return exitOK
	case "logs":
		return runLogs(rest, stdout, stderr)
	case "report":
		return runReport(rest, stdout, stderr)
	case "import":
		return runImport(rest, stdout, stderr)
	case "check", "apply", "revert", "unlock", "status", "cockpit", "watch":
	default: // before the arguments: `golive stauts` is a typo, not a missing plan
		fmt.Fprintf(stderr, "golive: unknown command %q (nor a plan file of that name)\n\n%s", cmd, usage)
		return exitUsage
	}
	var opts options
	fs := flag.NewFlagSet("golive "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	fs.StringVar(&opts.state, "state", "", "state directory")
	fs.BoolVar(&opts.yes, "yes", false, "answer yes to confirm steps")
	fs.BoolVar(&opts.force, "force", false, "unlock: break another machine's lock without asking")
	fs.StringVar(&opts.record, "record", "", "asciicast file to record the cockpit to")
	positional, err := parseInterspersed(fs, rest)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "golive %s: expected one PLAN file, got %d arguments\n\n%s", cmd, len(positional), usage)
		return exitUsage
	}
	planPath := positional[0]
	plan, err := plans.Load(planPath)
	if err != nil {
		fmt.Fprintln(stderr, err)
		var perr *plans.PlanError
		if errors.As(err, &perr) {
			fmt.Fprintf(stderr, "%d problem(s) in the plan; fix them and run `golive check %s` again\n", len(perr.Problems), planPath)
		}
		return exitUsage
	}
	if cmd == "check" {
		return check(plan, stdout, stderr)
	}
	stateGiven := opts.state != ""
	if !stateGiven {
		opts.state = filepath.Join(plan.Dir(), ".golive")
	}
	ctx, stop := interruptible(stderr)
	defer stop()
	h := &headless{plan: plan, opts: opts, stdin: stdin, stdout: stdout, stderr: stderr}
	switch {
	case plan.HasHosts() && (cmd == "apply" || cmd == "revert"):
		if h.hosts, err = connectHosts(ctx, plan); err != nil {
			fmt.Fprintln(stderr, "golive:", err)
			return exitEnvironment
		}
		defer closeHosts(h.hosts)
	case plan.HasHosts():
		// Looking and unlocking go on with the hosts that answer: a lost
		// host is exactly when the operator needs to see the others.
		h.reachOrLater(ctx)
		defer h.closeAll()
	default:
		if h.cli, err = docker.Connect(ctx, plan.Docker.Host); err != nil {
			fmt.Fprintln(stderr, "golive:", err)
			return exitEnvironment
		}
		defer h.cli.Close()
	}
	switch cmd {
	case "apply":
		return h.apply(ctx)
	case "revert":
		return h.revert(ctx)
	case "unlock":
		return h.unlock(ctx)
	case "cockpit":
		return h.cockpit()
	case "watch":
		return h.watch(stateGiven)
	default:
		return h.status(ctx)
	}
}

// isPlanFile reports whether arg names a plan file rather than a command.
func isPlanFile(arg string) bool {
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") {
		return true
	}
	fi, err := os.Stat(arg)
	return err == nil && !fi.IsDir()
}

// parseInterspersed parses flags that may stand before or after the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM;
// a second one ends the process at once.
func interruptible(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		if _, ok := <-sig; !ok {
			return
		}
		fmt.Fprintln(stderr, "\ninterrupted: stopping the current step; on_failure decides what happens to changed services (interrupt again to quit at once)")
		cancel()
		if _, ok := <-sig; ok {
			fmt.Fprintln(stderr, "quit at once: services may be half-deployed and the lock may be left; run `golive revert PLAN` and `golive unlock PLAN`")
			os.Exit(exitInterrupted)
		}
	}()
	return ctx, func() { signal.Stop(sig); close(sig); cancel() }
}
