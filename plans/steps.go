package plans

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/golive/golive/logs"
)

// maxStepLine bounds one line of step output; longer lines are cut.
const maxStepLine = 16 << 10

// runShell runs a command with sh on the operator's machine, in the plan's
// folder, streaming each output line as an event. It returns the exit code.
func (e *Engine) runShell(ctx context.Context, base Event, phase, command string, timeout time.Duration) (int, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = e.plan.Dir()
	cmd.Env = append(os.Environ(), "GOLIVE_PROJECT="+e.plan.Project, "GOLIVE_RELEASE="+e.plan.Release)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return -1, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return -1, err
	}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("start %q: %w", command, err)
	}
	var wg sync.WaitGroup
	for stream, r := range map[string]io.Reader{"stdout": stdout, "stderr": stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), maxStepLine)
			for sc.Scan() {
				ev := base
				ev.Kind, ev.Phase, ev.Stream, ev.Line = EvStepOutput, phase, stream, logs.SanitizeString(sc.Text())
				e.Emit(ev)
			}
			io.Copy(io.Discard, r) // after an over-long line: drain so the command is not blocked
		}()
	}
	wg.Wait()
	err = cmd.Wait()
	if ctx.Err() == context.DeadlineExceeded {
		return -1, fmt.Errorf("%q timed out after %s", command, timeout)
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// runStep carries out one plan step. passed, when not nil, is closed when
// a deploy step's services have passed their first check.
func (e *Engine) runStep(ctx context.Context, run string, n int, step Step, passed chan struct{}) error {
	start := time.Now()
	base := Event{Run: run, Step: n, StepName: step.Title(), StepKind: step.Kind()}
	startEv := base
	startEv.Kind, startEv.Command = EvStepStart, step.Command()
	if step.Mark != nil { // its URL as filled in, not the plan's template
		shown := e.markShown(*step.Mark)
		base.StepName, startEv.StepName, startEv.Command = "Mark: "+shown, "Mark: "+shown, "POST "+shown
	}
	e.Emit(startEv)
	err := e.stepBody(ctx, run, base, &stepRun{e: e, n: n, title: step.Title(), passed: passed}, step)
	end := base
	end.Kind, end.DurationMS, end.Result = EvStepEnd, ms(time.Since(start)), ResultOK
	if err == nil && (step.Kind() == StepRun || step.Kind() == StepVerify) {
		code := 0 // every command of the step exited 0
		end.ExitCode = &code
	}
	if err != nil {
		end.Result, end.Error = ResultFailed, err.Error()
		var exit *ExitError
		if errors.As(err, &exit) {
			code := exit.Code
			end.ExitCode = &code
		}
	}
	e.Emit(end)
	if err != nil {
		return fmt.Errorf("step %d (%s): %w", n, step.Title(), err)
	}
	return nil
}

// ExitError is a step command that exited non-zero.
type ExitError struct {
	Phase   string
	Command string
	Code    int
}

func (e *ExitError) Error() string {
	return fmt.Sprintf("%s %q exited with code %d", e.Phase, e.Command, e.Code)
}

func (e *Engine) stepBody(ctx context.Context, run string, base Event, sr *stepRun, step Step) error {
	shell := func(phase, command string) error {
		code, err := e.runShell(ctx, base, phase, command, step.Timeout)
		if err != nil {
			return err
		}
		if code != 0 {
			return &ExitError{Phase: phase, Command: command, Code: code}
		}
		return nil
	}
	switch step.Kind() {
	case StepDeploy:
		return e.deployGroup(ctx, run, step.Deploy, sr)
	case StepVerify:
		return shell("verify", step.Verify)
	case StepConfirm:
		return e.confirm(ctx, base, step.Confirm)
	case StepMark:
		return e.mark(ctx, base, *step.Mark)
	case StepPause, StepResume, StepMaintenance, StepEndMaintenance:
		return e.proxyStep(ctx, base, step)
	case StepCanary:
		return e.canaryStep(ctx, run, *step.Canary)
	}
	if step.Before != "" {
		if err := shell("before", step.Before); err != nil {
			return err
		}
	}
	if err := shell("run", step.Run); err != nil {
		return err
	}
	if step.After != "" {
		return shell("after", step.After)
	}
	return nil
}

// ErrNoOperator says a confirm step had nobody to answer it.
var ErrNoOperator = errors.New("a confirm step needs an operator: run the cockpit, or pass --yes")

// ErrDeclined says the operator answered no.
var ErrDeclined = errors.New("the operator answered no")

func (e *Engine) confirm(ctx context.Context, base Event, question string) error {
	ask := base
	ask.Kind, ask.Message = EvConfirmAsk, question
	e.Emit(ask)
	if e.opts.Asker == nil {
		return ErrNoOperator
	}
	yes, err := e.opts.Asker.Confirm(ctx, question)
	if err != nil {
		return err
	}
	answer := base
	answer.Kind, answer.Message, answer.Result = EvConfirmAnswer, question, "yes"
	if !yes {
		answer.Result = "no"
	}
	e.Emit(answer)
	if !yes {
		return ErrDeclined
	}
	return nil
}
