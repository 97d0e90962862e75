package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key the cockpit knows, in one place.
type KeyMap struct {
	Deploy, Revert, Preload, Yes, No, Quit, Help key.Binding
	Up, Down, PageUp, PageDown, Top, Follow      key.Binding
	Search, Filter, NextMatch, PrevMatch         key.Binding
	NextError, PrevError, ErrorsOnly, Wrap, Time key.Binding
	Source, AllSources, Escape, Latest, Save     key.Binding
}

// DefaultKeys are the cockpit's keys. Deploy and revert are capitals: a
// deliberate chord, never a slip.
func DefaultKeys() KeyMap {
	return KeyMap{
		Deploy:     key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "deploy")),
		Revert:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "revert")),
		Preload:    key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "retry preload")),
		Yes:        key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "answer yes")),
		No:         key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "answer no (cancel)")),
		Quit:       key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll up")),
		Down:       key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll down")),
		PageUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+u"), key.WithHelp("pgup", "page up")),
		PageDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+d"), key.WithHelp("pgdn", "page down")),
		Top:        key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "oldest")),
		Follow:     key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "follow")),
		Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search")),
		Filter:     key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "filter (!x inverts)")),
		NextMatch:  key.NewBinding(key.WithKeys("n"), key.WithHelp("n/N", "next/prev match")),
		PrevMatch:  key.NewBinding(key.WithKeys("N")),
		NextError:  key.NewBinding(key.WithKeys("e"), key.WithHelp("e/E", "next/prev error")),
		PrevError:  key.NewBinding(key.WithKeys("E")),
		ErrorsOnly: key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "errors only")),
		Wrap:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
		Time:       key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "times: short/column/as logged")),
		Source:     key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9"), key.WithHelp("1-9", "one source")),
		AllSources: key.NewBinding(key.WithKeys("0"), key.WithHelp("0", "all sources")),
		Escape:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),
		Latest:     key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "follow the newer release")),
		Save:       key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save the shown lines")),
	}
}

// helpKeys adapts the key map to bubbles/help for the current situation.
type helpKeys struct {
	k        KeyMap
	asking   bool
	readOnly bool
	newer    bool     // read-only: a newer release started
	applying bool     // an apply runs: R stops it and reverts
	stopping bool     // R was pressed during the apply
	sources  []string // what 1–9 select, in order
}

// ShortHelp is the footer: the keys that act right now. A pending
// question keeps every other key working; its own keys lead.
func (h helpKeys) ShortHelp() []key.Binding {
	if h.asking && !h.readOnly {
		return []key.Binding{h.k.Yes, h.k.No, h.k.Follow, h.k.Search, h.k.NextError, h.k.ErrorsOnly, h.k.Quit, h.k.Help}
	}
	if h.readOnly && h.newer {
		return []key.Binding{h.k.Latest, h.k.Follow, h.k.Search, h.k.NextError, h.k.Quit, h.k.Help}
	}
	if h.readOnly {
		return []key.Binding{h.k.Follow, h.k.Search, h.k.NextError, h.k.ErrorsOnly, h.k.Quit, h.k.Help}
	}
	if h.applying && h.stopping {
		return []key.Binding{h.k.Follow, h.k.Search, h.k.NextError, h.k.ErrorsOnly, h.k.Quit, h.k.Help}
	}
	if h.applying {
		stop := key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "stop and revert"))
		return []key.Binding{stop, h.k.Follow, h.k.Search, h.k.NextError, h.k.ErrorsOnly, h.k.Quit, h.k.Help}
	}
	return []key.Binding{h.k.Deploy, h.k.Revert, h.k.Follow, h.k.Search, h.k.NextError, h.k.ErrorsOnly, h.k.Quit, h.k.Help}
}

// FullHelp is every key, by column, and the log sources with the number
// key that selects each.
func (h helpKeys) FullHelp() [][]key.Binding {
	sources := []key.Binding{h.k.AllSources}
	for i, s := range h.sources[:min(len(h.sources), 9)] {
		n := string(rune('1' + i))
		sources = append(sources, key.NewBinding(key.WithKeys(n), key.WithHelp(n, s)))
	}
	return [][]key.Binding{
		{h.k.Deploy, h.k.Revert, h.k.Preload, h.k.Yes, h.k.No, h.k.Quit, h.k.Help},
		{h.k.Up, h.k.Down, h.k.PageUp, h.k.PageDown, h.k.Top, h.k.Follow},
		{h.k.Search, h.k.NextMatch, h.k.Filter, h.k.NextError, h.k.ErrorsOnly, h.k.Escape},
		{h.k.Wrap, h.k.Time, h.k.Save, h.k.Latest},
		sources,
	}
}
