package plans

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// shape checks a plan's YAML against the Go types it decodes into before
// anything decodes it: it reports every unknown key and every value of the
// wrong kind at its position, drops those keys and values so that the rest
// still decodes and gets validated, and records which settings the file sets.
type shape struct {
	anchors  map[string]ast.Node
	problems []Problem
	set      map[string]bool // settings the file names, by path (services.api.health.stable): true with a value, false when empty
	dropped  map[string]bool // settings removed for having the wrong kind of value
	services []string        // service names in file order
	named    map[string]bool // the names in services
}

func newShape() *shape {
	return &shape{anchors: map[string]ast.Node{}, set: map[string]bool{}, dropped: map[string]bool{}, named: map[string]bool{}}
}

var (
	durationType    = reflect.TypeFor[time.Duration]()
	commandType     = reflect.TypeFor[Command]()
	unmarshalerType = []reflect.Type{
		reflect.TypeFor[yaml.BytesUnmarshaler](),
		reflect.TypeFor[yaml.InterfaceUnmarshaler](),
		reflect.TypeFor[yaml.NodeUnmarshaler](),
	}
)

// standardTags are the YAML tags golive accepts; the decoder handles them.
var standardTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!null": true,
	"!!seq": true, "!!map": true, "!!binary": true, "!!timestamp": true,
}

// problem records a problem at node.
func (s *shape) problem(node ast.Node, format string, args ...any) {
	p := Problem{Message: fmt.Sprintf(format, args...)}
	if tk := node.GetToken(); tk != nil && tk.Position != nil {
		p.Line, p.Column = tk.Position.Line, tk.Position.Column
	}
	s.problems = append(s.problems, p)
}

// walk checks node against t; path names the setting. It reports false when
// node must be dropped. at, when set, is where to report a wrong kind (the
// alias that brought node here).
func (s *shape) walk(t reflect.Type, node, at ast.Node, path string) bool {
	if at == nil {
		at = node
	}
	switch n := node.(type) {
	case nil, *ast.NullNode:
		return true
	case *ast.AnchorNode:
		ok := s.walk(t, n.Value, nil, path)
		s.anchors[anchorName(n.Name)] = n.Value
		return ok
	case *ast.AliasNode:
		target := s.anchors[anchorName(n.Value)]
		return target == nil || s.walk(t, target, n, path)
	case *ast.TagNode:
		tag := n.Start.Value
		switch {
		case !standardTags[tag]:
			s.problem(n, "%s: the YAML tag %s is not one golive reads; remove it", describe(path), tag)
			return false
		case n.Value == nil:
			s.problem(n, "%s: the YAML tag %s has no value; remove it or give it one", describe(path), tag)
			return false
		case tag != "!!str":
			return s.walk(t, n.Value, at, path)
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	kind := nodeKind(node)
	switch {
	case t == commandType:
		if kind == "a string" {
			return true
		}
		if seq, ok := node.(*ast.SequenceNode); ok {
			return s.scalars(seq, path, "a command's arguments")
		}
		s.problem(at, "%s must be a command: a list such as [curl, -fsS, URL] or one string, not %s", describe(path), kind)
		return false
	case t == durationType:
		return s.duration(node, at, path, kind)
	case customDecoded(t):
		return true
	}
	switch t.Kind() {
	case reflect.String:
		if isPort(path) && kind == "a number" {
			n := scalarText(node)
			s.problem(at, "%s: port %s is written as a number; quote it, as in \"%s:%s\" (HOST_PORT:CONTAINER_PORT), so that YAML cannot misread it", describe(servicePath(path)), n, n, n)
			return false
		}
		if kind == "a mapping" || kind == "a list" {
			s.problem(at, "%s must be a single value, not %s", describe(path), kind)
			return false
		}
	case reflect.Bool:
		if kind != "true or false" {
			s.problem(at, "%s must be true or false, not %s", describe(path), kind)
			return false
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if kind != "a number" {
			s.problem(at, "%s must be a whole number, not %s", describe(path), kind)
			return false
		}
		return s.whole(t, node, at, path)
	case reflect.Slice:
		seq, ok := node.(*ast.SequenceNode)
		if !ok {
			s.problem(at, "%s must be a list, not %s", describe(path), kind)
			return false
		}
		kept := seq.Values[:0]
		for i, v := range seq.Values {
			if s.walk(t.Elem(), v, nil, fmt.Sprintf("%s[%d]", path, i)) {
				kept = append(kept, v)
			}
		}
		seq.Values = kept
	case reflect.Map, reflect.Struct:
		if !isMapping(node) {
			s.problem(at, "%s must be a mapping of settings (key: value), not %s", describe(path), kind)
			return false
		}
		if m, ok := node.(*ast.MappingNode); ok && len(m.Values) > MaxMappingEntries {
			s.problem(at, "%s has more than %d keys; a plan needs far fewer", describe(path), MaxMappingEntries)
			return false
		}
		s.mapping(t, node, path)
	}
	return true
}

// whole checks that a number is a whole one its field can hold: the
// decoder's own message ("cannot unmarshal -2 into Go value of type
// uint64 ( overflow )") says neither which setting nor what to write.
func (s *shape) whole(t reflect.Type, node, at ast.Node, path string) bool {
	text := scalarText(node)
	if tg, ok := node.(*ast.TagNode); ok {
		node = tg.Value
	}
	if _, ok := node.(*ast.IntegerNode); !ok {
		s.problem(at, "%s must be a whole number, not %s", describe(path), text)
		return false
	}
	unsigned := t.Kind() >= reflect.Uint && t.Kind() <= reflect.Uint64
	if unsigned && strings.HasPrefix(text, "-") {
		s.problem(at, "%s must not be negative, not %s", describe(path), text)
		return false
	}
	return true
}

// mapping checks the pairs of a mapping node against a map or struct type,
// dropping the pairs that are wrong.
func (s *shape) mapping(t reflect.Type, node ast.Node, path string) {
	var fields map[string]reflect.Type
	if t.Kind() == reflect.Struct {
		fields = map[string]reflect.Type{}
		structFields(t, fields)
	}
	keep := func(kv *ast.MappingValueNode) bool {
		if _, merge := kv.Key.(*ast.MergeKeyNode); merge {
			return s.merge(t, kv.Value, path)
		}
		key, ok := keyName(kv.Key)
		if !ok {
			s.problem(kv.Key, "%s: a key must be a plain name, not %s", describe(path), nodeKind(kv.Key))
			return false
		}
		sub := joinPath(path, key)
		elem := t
		if fields == nil {
			elem = t.Elem()
		} else if elem = fields[key]; elem == nil {
			msg, guess := unknownField(key, fields)
			s.problem(kv.Key, "%s", msg)
			if guess != "" {
				s.dropped[joinPath(path, guess)] = true
			}
			return false
		}
		if !s.walk(elem, kv.Value, nil, sub) {
			s.dropped[sub] = true
			return false
		}
		s.set[sub] = !isNull(kv.Value)
		if path == "services" && !s.named[key] {
			s.named[key] = true
			s.services = append(s.services, key)
		}
		return true
	}
	switch n := node.(type) {
	case *ast.MappingNode:
		kept := n.Values[:0]
		for _, kv := range n.Values {
			if keep(kv) {
				kept = append(kept, kv)
			}
		}
		n.Values = kept
	case *ast.MappingValueNode:
		if !keep(n) {
			n.Value = ast.Null(n.Value.GetToken())
		}
	}
}

// merge checks the value of a `<<:` merge key: a mapping, or a list of them.
func (s *shape) merge(t reflect.Type, value ast.Node, path string) bool {
	for {
		switch n := value.(type) {
		case *ast.AliasNode:
			if value = s.anchors[anchorName(n.Value)]; value == nil {
				return true
			}
			continue
		case *ast.AnchorNode:
			ok := s.merge(t, n.Value, path)
			s.anchors[anchorName(n.Name)] = n.Value
			return ok
		case *ast.SequenceNode:
			for _, v := range n.Values {
				if !s.merge(t, v, path) {
					return false
				}
			}
			return true
		}
		if !isMapping(value) {
			s.problem(value, "%s: a merge key (<<) takes a mapping or a list of mappings, not %s", describe(path), nodeKind(value))
			return false
		}
		s.mapping(t, value, path)
		return true
	}
}

func (s *shape) duration(node, at ast.Node, path, kind string) bool {
	text := ""
	switch kind {
	case "a string", "a number":
		text = scalarText(node)
	default:
		s.problem(at, "%s must be a duration such as 500ms, 30s, 2m or 1m30s, not %s", describe(path), kind)
		return false
	}
	if _, err := time.ParseDuration(text); err != nil {
		hint := "write a duration such as 500ms, 30s, 2m or 1m30s"
		if kind == "a number" {
			hint = fmt.Sprintf("give it a unit, as in %ss or %sms", text, text)
		}
		s.problem(at, "%s: %q is not a duration: %s", describe(path), text, hint)
		return false
	}
	return true
}

// scalars checks that every element of seq is a single value.
func (s *shape) scalars(seq *ast.SequenceNode, path, what string) bool {
	for i, v := range seq.Values {
		for {
			a, ok := v.(*ast.AliasNode)
			if !ok {
				break
			}
			if v = s.anchors[anchorName(a.Value)]; v == nil {
				return true
			}
		}
		if k := nodeKind(v); k == "a mapping" || k == "a list" {
			s.problem(v, "%s: %s are single values; element %d is %s", describe(path), what, i+1, k)
			return false
		}
	}
	return true
}

// nodeKind names what kind of YAML value node is, for messages.
func nodeKind(node ast.Node) string {
	switch n := node.(type) {
	case *ast.AnchorNode:
		return nodeKind(n.Value)
	case *ast.TagNode:
		if n.Start.Value == "!!str" {
			return "a string"
		}
		return nodeKind(n.Value)
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "true or false"
	case *ast.NullNode, nil:
		return "empty"
	case *ast.AliasNode:
		return "an alias"
	}
	return "a string"
}

func isMapping(node ast.Node) bool {
	switch node.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

func isNull(node ast.Node) bool {
	_, null := node.(*ast.NullNode)
	return node == nil || null
}

// customDecoded reports whether values of t decode themselves, so that
// only the decoder knows what they accept.
func customDecoded(t reflect.Type) bool {
	for _, u := range unmarshalerType {
		if t.Implements(u) || reflect.PointerTo(t).Implements(u) {
			return true
		}
	}
	return false
}

// structFields collects the YAML keys of a struct type, inline fields included.
func structFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct {
			structFields(f.Type, fields)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
}

func keyName(key ast.MapKeyNode) (string, bool) {
	var node ast.Node = key
	if k, ok := node.(*ast.MappingKeyNode); ok {
		node = k.Value
	}
	switch nodeKind(node) {
	case "a mapping", "a list", "an alias", "empty":
		return "", false
	}
	return scalarText(node), true
}

// scalarText is the text of a scalar node, past a tag such as !!str.
func scalarText(node ast.Node) string {
	if t, ok := node.(*ast.TagNode); ok && t.Value != nil {
		node = t.Value
	}
	if tk := node.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// unknownField is the message for an unknown key, and the known key it is
// probably a misspelling of.
func unknownField(key string, fields map[string]reflect.Type) (string, string) {
	best, bestDist := "", 3
	for name := range fields {
		if d := editDistance(key, name); d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field %q: did you mean %q? (see the README for the plan format)", key, best), best
	}
	return fmt.Sprintf("unknown field %q (check the spelling; see the README for the plan format)", key), ""
}

// editDistance is the Levenshtein distance between two short names.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// isPort reports whether path names an element of a service's ports.
func isPort(path string) bool {
	return strings.HasPrefix(path, "services.") && strings.Contains(path, ".ports[")
}

// servicePath is the path of the service a setting belongs to.
func servicePath(path string) string {
	rest, ok := strings.CutPrefix(path, "services.")
	if !ok {
		return path
	}
	name, _, _ := strings.Cut(rest, ".")
	return "services." + name
}

// describe names a setting for messages: "service api: health.cmd" for
// services.api.health.cmd, "service api" for services.api.
func describe(path string) string {
	rest, ok := strings.CutPrefix(path, "services.")
	if !ok {
		return path
	}
	name, setting, found := strings.Cut(rest, ".")
	if !found {
		return "service " + name
	}
	return "service " + name + ": " + setting
}
