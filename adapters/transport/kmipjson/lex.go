package kmipjson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// lexer reads JSON (RFC 8259) from a byte slice that is valid UTF-8, strictly:
// the parser asks for the punctuation and values it expects. It is a small,
// allocation-light replacement for encoding/json's Token API, whose cost
// dominated decoding.
type lexer struct {
	b   []byte
	pos int
}

func (l *lexer) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: offset %d: %s", ErrInvalid, l.pos, fmt.Sprintf(format, args...))
}

// ws skips white space and returns the next byte, or 0 at the end.
func (l *lexer) ws() byte {
	for l.pos < len(l.b) {
		switch c := l.b[l.pos]; c {
		case ' ', '\t', '\n', '\r':
			l.pos++
		default:
			return c
		}
	}
	return 0
}

// expect consumes c after white space.
func (l *lexer) expect(c byte) error {
	if got := l.ws(); got != c {
		if got == 0 {
			return l.errorf("unexpected end, want %q", c)
		}
		return l.errorf("found %q, want %q", got, c)
	}
	l.pos++
	return nil
}

// next consumes c after white space if it is next.
func (l *lexer) next(c byte) bool {
	if l.ws() == c {
		l.pos++
		return true
	}
	return false
}

// scalar reads a string, number, true, false or null as the json.Token
// encoding/json would give (string, json.Number, bool, nil).
func (l *lexer) scalar() (json.Token, error) {
	switch c := l.ws(); {
	case c == '"':
		return l.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return l.number()
	case c == 't':
		return true, l.literal("true")
	case c == 'f':
		return false, l.literal("false")
	case c == 'n':
		return nil, l.literal("null")
	case c == 0:
		return nil, l.errorf("unexpected end")
	default:
		return nil, l.errorf("unexpected %q", c)
	}
}

func (l *lexer) literal(word string) error {
	if !strings.HasPrefix(string(l.b[l.pos:min(len(l.b), l.pos+len(word))]), word) {
		return l.errorf("bad literal")
	}
	l.pos += len(word)
	return nil
}

// number reads a JSON number, checking its syntax.
func (l *lexer) number() (json.Number, error) {
	start := l.pos
	digits := func() int {
		n := 0
		for l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '9' {
			l.pos++
			n++
		}
		return n
	}
	if l.b[l.pos] == '-' {
		l.pos++
	}
	lead := l.pos
	if n := digits(); n == 0 || (n > 1 && l.b[lead] == '0') {
		return "", l.errorf("bad number")
	}
	if l.pos < len(l.b) && l.b[l.pos] == '.' {
		l.pos++
		if digits() == 0 {
			return "", l.errorf("bad number")
		}
	}
	if l.pos < len(l.b) && (l.b[l.pos] == 'e' || l.b[l.pos] == 'E') {
		l.pos++
		if l.pos < len(l.b) && (l.b[l.pos] == '+' || l.b[l.pos] == '-') {
			l.pos++
		}
		if digits() == 0 {
			return "", l.errorf("bad number")
		}
	}
	return json.Number(l.b[start:l.pos]), nil
}

// str reads a JSON string after white space.
func (l *lexer) str() (string, error) {
	if err := l.expect('"'); err != nil {
		return "", err
	}
	start := l.pos
	for l.pos < len(l.b) {
		switch c := l.b[l.pos]; {
		case c == '"':
			s := string(l.b[start:l.pos])
			l.pos++
			return s, nil
		case c == '\\':
			return l.escaped(start)
		case c < 0x20:
			return "", l.errorf("control character in a string")
		}
		l.pos++
	}
	return "", l.errorf("unterminated string")
}

// escaped finishes a string with escapes that started at start.
func (l *lexer) escaped(start int) (string, error) {
	out := append([]byte(nil), l.b[start:l.pos]...)
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		switch {
		case c == '"':
			l.pos++
			return string(out), nil
		case c < 0x20:
			return "", l.errorf("control character in a string")
		case c != '\\':
			out = append(out, c)
			l.pos++
			continue
		}
		if l.pos+1 >= len(l.b) {
			break
		}
		l.pos += 2
		switch e := l.b[l.pos-1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := l.hex4()
			if !ok {
				return "", l.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				if l.pos+1 < len(l.b) && l.b[l.pos] == '\\' && l.b[l.pos+1] == 'u' {
					save := l.pos
					l.pos += 2
					if lo, ok := l.hex4(); ok && utf16.DecodeRune(r, lo) != utf8.RuneError {
						r2 = utf16.DecodeRune(r, lo)
					} else {
						l.pos = save // a lone surrogate, as encoding/json reads it
					}
				}
				r = r2
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", l.errorf("bad escape \\%c", e)
		}
	}
	return "", l.errorf("unterminated string")
}

func (l *lexer) hex4() (rune, bool) {
	if l.pos+4 > len(l.b) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(l.b[l.pos:l.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	l.pos += 4
	return rune(v), true
}
