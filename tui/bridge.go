package tui

import (
	"context"
	"sync"

	tea "charm.land/bubbletea/v2"

	"github.com/golive/golive/plans"
)

// Bridge carries the engine's events and confirm questions into the
// cockpit. Give its OnEvent and itself (as plans.Asker) to the engine. It
// never blocks the engine: events queue until the cockpit takes them.
type Bridge struct {
	mu     sync.Mutex
	events []plans.Event
	asks   []*question
	notify chan struct{}
	closed chan struct{}
	once   sync.Once
}

// question is a confirm step waiting for the operator.
type question struct {
	text  string
	reply chan bool
}

// NewBridge makes an empty bridge.
func NewBridge() *Bridge {
	return &Bridge{notify: make(chan struct{}, 1), closed: make(chan struct{})}
}

// Close ends the cockpit's wait for the engine: call it once the program
// has ended, so that no goroutine keeps the program (and its log buffer)
// alive.
func (b *Bridge) Close() { b.once.Do(func() { close(b.closed) }) }

// OnEvent queues an engine event for the cockpit.
func (b *Bridge) OnEvent(ev plans.Event) {
	b.mu.Lock()
	b.events = append(b.events, ev)
	b.mu.Unlock()
	b.wake()
}

// Confirm asks the operator in the cockpit and waits for y or n.
func (b *Bridge) Confirm(ctx context.Context, text string) (bool, error) {
	q := &question{text: text, reply: make(chan bool, 1)}
	b.mu.Lock()
	b.asks = append(b.asks, q)
	b.mu.Unlock()
	b.wake()
	select {
	case yes := <-q.reply:
		return yes, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

func (b *Bridge) wake() {
	select {
	case b.notify <- struct{}{}:
	default:
	}
}

// bridgeMsg delivers what the engine queued since the last one.
type bridgeMsg struct {
	events []plans.Event
	asks   []*question
}

// wait is a command that returns the next batch from the engine, or
// nothing once the bridge is closed.
func (b *Bridge) wait() tea.Msg {
	select {
	case <-b.notify:
	case <-b.closed:
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	msg := bridgeMsg{events: b.events, asks: b.asks}
	b.events, b.asks = nil, nil
	return msg
}
