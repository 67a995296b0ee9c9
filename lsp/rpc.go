package lsp

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// The base protocol: JSON-RPC 2.0 messages, each after a header block
// with its Content-Length. It is ours rather than a library's so that a
// message's size is bounded before it is read, a malformed message gets a
// JSON-RPC error reply instead of a closed connection, and every request is
// answered even when its handler panics.

// JSON-RPC and LSP error codes.
const (
	codeParseError       = -32700
	codeInvalidRequest   = -32600
	codeMethodNotFound   = -32601
	codeInvalidParams    = -32602
	codeInternalError    = -32603
	codeServerNotInit    = -32002
	codeRequestFailed    = -32803
	codeContentModified  = -32801
	maxHeaderLine        = 4096
	maxHeaderLines       = 32
	defaultMaxMessageLen = 2*maxDocument + 1<<20 // a full-text change of the largest document, escaped, fits
)

// message is any JSON-RPC message: a request (ID and Method), a
// notification (Method only) or a response (ID, Result or Error).
type message struct {
	JSONRPC string           `json:"jsonrpc"`
	ID      *json.RawMessage `json:"id,omitempty"`
	Method  string           `json:"method,omitempty"`
	Params  json.RawMessage  `json:"params,omitempty"`
	Result  json.RawMessage  `json:"result,omitempty"`
	Error   *rpcError        `json:"error,omitempty"`
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// errFraming is a header block that cannot be read: the stream is out of
// step and the connection cannot go on.
var errFraming = errors.New("lsp: bad message framing")

// conn reads and writes framed messages.
type conn struct {
	r      *bufio.Reader
	maxLen int

	wmu sync.Mutex
	w   io.Writer
}

func newConn(r io.Reader, w io.Writer, maxLen int) *conn {
	if maxLen <= 0 {
		maxLen = defaultMaxMessageLen
	}
	return &conn{r: bufio.NewReaderSize(r, 64<<10), w: w, maxLen: maxLen}
}

// read returns the next message's body. A body too large is skipped
// (discarded without being held) and reported with its size, so the caller
// can answer it; a broken header ends the connection (errFraming).
func (c *conn) read() ([]byte, error) {
	length := -1
	for n := 0; ; n++ {
		if n > maxHeaderLines {
			return nil, fmt.Errorf("%w: more than %d header lines", errFraming, maxHeaderLines)
		}
		line, err := c.readLine()
		if err != nil {
			return nil, err
		}
		if line == "" {
			if length < 0 && n == 0 {
				continue // a stray blank line between messages
			}
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: header line %q has no colon", errFraming, line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			v, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%w: Content-Length %q is not a length", errFraming, strings.TrimSpace(value))
			}
			length = v
		}
	}
	if length < 0 {
		return nil, fmt.Errorf("%w: no Content-Length header", errFraming)
	}
	if length > c.maxLen {
		if _, err := io.CopyN(io.Discard, c.r, int64(length)); err != nil {
			return nil, err
		}
		return nil, &tooLarge{size: length, max: c.maxLen}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(c.r, body); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, io.EOF
		}
		return nil, err
	}
	return body, nil
}

// tooLarge is a message over the size limit, which was skipped.
type tooLarge struct{ size, max int }

func (e *tooLarge) Error() string {
	return fmt.Sprintf("message of %d bytes is larger than the limit of %d bytes", e.size, e.max)
}

func (c *conn) readLine() (string, error) {
	var b []byte
	for {
		part, isPrefix, err := c.r.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, part...)
		if len(b) > maxHeaderLine {
			return "", fmt.Errorf("%w: header line longer than %d bytes", errFraming, maxHeaderLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// write sends one message; writes are serialized, as the debounced
// diagnostics are published from a timer.
func (c *conn) write(m *message) error {
	m.JSONRPC = "2.0"
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "Content-Length: %d\r\n\r\n", len(body))
	buf.Write(body)
	_, err = c.w.Write(buf.Bytes())
	return err
}

func (c *conn) notify(method string, params any) error {
	p, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return c.write(&message{Method: method, Params: p})
}

func (c *conn) reply(id *json.RawMessage, result any, rerr *rpcError) error {
	if id == nil {
		null := json.RawMessage("null")
		id = &null
	}
	m := &message{ID: id}
	if rerr != nil {
		m.Error = rerr
	} else {
		r, err := json.Marshal(result)
		if err != nil {
			m.Error = &rpcError{Code: codeInternalError, Message: "cannot encode the result: " + err.Error()}
		} else {
			m.Result = r
		}
	}
	return c.write(m)
}
