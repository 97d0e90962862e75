package plans

import (
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits on what a plan may ask of the loader. A real plan uses a tiny
// fraction of each; they exist so that no file can make golive hang or run
// out of memory.
const (
	// MaxPlanBytes is the largest plan file golive reads.
	MaxPlanBytes = 1 << 20
	// MaxPlanDepth is how deeply lists and mappings may nest in a plan.
	MaxPlanDepth = 64
	// MaxAliasValues is how many values YAML aliases (*name) may add to a
	// plan in total once expanded.
	MaxAliasValues = 10000
	// MaxPlanTokens is how many YAML tokens a plan may have.
	MaxPlanTokens = 100000
	// MaxMappingEntries is how many keys one mapping may have.
	MaxMappingEntries = 1000
	// MaxEnvFileBytes is the largest env_file golive reads.
	MaxEnvFileBytes = 1 << 20
	// MaxReplicas is the most tasks a Swarm service may ask for: more than
	// any cluster runs, few enough that times derived from it stay sane.
	MaxReplicas = 10000
)

// parseBounded parses YAML text within the limits above. It refuses what
// would cost too much before the lexer, the parser or a decoder gets to
// it; the problem says what, and where.
func parseBounded(data []byte) (*ast.File, *Problem) {
	if len(data) > MaxPlanBytes {
		return nil, &Problem{Message: fmt.Sprintf("the file is larger than %s; a plan needs a few kilobytes", byteSize(MaxPlanBytes))}
	}
	if line, col, many := tooManyTokens(data); many {
		return nil, &Problem{Line: line, Column: col, Message: tooManyTokensMessage}
	}
	tokens := lexer.Tokenize(string(data))
	if tk, msg := tooCostly(tokens); tk != nil {
		return nil, &Problem{Line: tk.Position.Line, Column: tk.Position.Column, Message: msg}
	}
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		p := yamlProblem(err, nil)
		return nil, &p
	}
	if aerr := checkAliases(file); aerr != nil {
		tk := aerr.node.GetToken()
		return nil, &Problem{Line: tk.Position.Line, Column: tk.Position.Column, Message: aerr.msg}
	}
	return file, nil
}

// readCapped reads at most max bytes of the file at path; what names the
// file in errors. With regular set, anything but a regular file (a FIFO, a
// device, a folder) is refused before reading. The file is opened without
// blocking, so a FIFO with no writer cannot hang the caller.
func readCapped(path, what string, max int64, regular bool) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if fi.IsDir() || (regular && !fi.Mode().IsRegular()) {
		return nil, fmt.Errorf("read %s %s: not a regular file (it is %s); name a plain file", what, path, fileKind(fi.Mode()))
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("read %s %s: larger than %s; golive reads at most that much", what, path, byteSize(max))
	}
	return data, nil
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

var tooManyTokensMessage = fmt.Sprintf("the plan has more than %d YAML tokens (keys, values, brackets); a plan needs far fewer", MaxPlanTokens)

// tooManyTokens returns the line and column past which data may hold more
// than MaxPlanTokens tokens. Every token starts at an indicator character
// (a bracket, comma, colon, dash, quote…), at a line break or at the start
// of a word, so counting those bounds the lexer's work before it starts.
func tooManyTokens(data []byte) (line, col int, many bool) {
	n, line, start := 0, 1, 0
	afterSpace := true
	for i, b := range data {
		starts := afterSpace
		switch b {
		case ' ', '\t', '\r':
			starts, afterSpace = false, true
		case '\n':
			starts, afterSpace = true, true
			line, start = line+1, i+1
		case ',', '[', ']', '{', '}', ':', '-', '?', '&', '*', '!', '|', '>', '\'', '"', '#', '%', '@', '`':
			starts, afterSpace = true, false
		default:
			afterSpace = false
		}
		if !starts {
			continue
		}
		if n++; n > MaxPlanTokens {
			if b == '\n' {
				return line - 1, i - start, true
			}
			return line, i - start + 1, true
		}
	}
	return 0, 0, false
}

// tooCostly returns the first token past which the parser's cost would
// grow out of bounds, and what is wrong there: more than MaxPlanTokens
// tokens, lists and mappings nested deeper than MaxPlanDepth, or a block
// mapping of more than MaxMappingEntries keys (the parser's work grows with
// their square). It reads the token stream, so it runs before the parser.
// Block nesting is counted by indentation columns, flow nesting by brackets.
func tooCostly(tokens token.Tokens) (*token.Token, string) {
	type level struct{ column, keys int }
	flow := 0
	var levels []level
	for i, tk := range tokens {
		if i == MaxPlanTokens {
			return tk, tooManyTokensMessage
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
		case token.SequenceEntryType, token.MappingKeyType, token.MappingValueType:
			if flow > 0 {
				break
			}
			col := tk.Position.Column
			if tk.Type == token.MappingValueType && i > 0 {
				col = tokens[i-1].Position.Column
			}
			for len(levels) > 0 && levels[len(levels)-1].column > col {
				levels = levels[:len(levels)-1]
			}
			if len(levels) == 0 || levels[len(levels)-1].column < col {
				levels = append(levels, level{column: col})
			}
			if tk.Type != token.MappingValueType {
				break
			}
			top := &levels[len(levels)-1]
			if top.keys++; top.keys > MaxMappingEntries {
				return tk, fmt.Sprintf("a mapping here has more than %d keys; a plan needs far fewer", MaxMappingEntries)
			}
		default:
			continue
		}
		if flow+len(levels) > MaxPlanDepth {
			return tk, fmt.Sprintf("lists and mappings nest more than %d levels deep here; a plan needs a handful of levels", MaxPlanDepth)
		}
	}
	return nil, ""
}

// aliasCounter measures what aliases add to a document when expanded, in
// document order, so that a "billion laughs" is refused before anything
// decodes it.
type aliasCounter struct {
	sizes map[string]int // expanded size of each anchor's value, by name
	added int
	err   *aliasError
}

type aliasError struct {
	node ast.Node
	msg  string
}

// checkAliases returns the first alias that refers to no earlier anchor or
// takes the expansion past MaxAliasValues.
func checkAliases(file *ast.File) *aliasError {
	c := &aliasCounter{sizes: map[string]int{}}
	for _, doc := range file.Docs {
		if c.size(doc); c.err != nil {
			return c.err
		}
	}
	return nil
}

// size is the number of values node stands for with aliases expanded,
// capped just above the budget so that it never overflows.
func (c *aliasCounter) size(node ast.Node) int {
	if c.err != nil || node == nil {
		return 0
	}
	n := 1
	switch nd := node.(type) {
	case *ast.DocumentNode:
		n = c.size(nd.Body)
	case *ast.MappingNode:
		for _, kv := range nd.Values {
			n += c.size(kv)
		}
	case *ast.MappingValueNode:
		n = c.size(nd.Key) + c.size(nd.Value)
	case *ast.MappingKeyNode:
		n = c.size(nd.Value)
	case *ast.SequenceNode:
		for _, v := range nd.Values {
			n += c.size(v)
		}
	case *ast.TagNode:
		n = c.size(nd.Value)
	case *ast.AnchorNode:
		n = c.size(nd.Value)
		c.sizes[anchorName(nd.Name)] = n
	case *ast.AliasNode:
		name := anchorName(nd.Value)
		size, ok := c.sizes[name]
		if !ok {
			c.err = &aliasError{node: nd, msg: fmt.Sprintf("alias *%s refers to no anchor &%s before it: define the anchor first, or write the value out", name, name)}
			return 0
		}
		c.added += size
		if c.added > MaxAliasValues {
			c.err = &aliasError{node: nd, msg: fmt.Sprintf("aliases expand to more than %d values (as at *%s): a plan needs far fewer; write the values out or use fewer aliases", MaxAliasValues, name)}
			return 0
		}
		n = size
	}
	return min(n, MaxAliasValues+1)
}

func anchorName(n ast.Node) string {
	if n == nil || n.GetToken() == nil {
		return ""
	}
	return n.GetToken().Value
}
