package config

import "net"

// Listen opens a TCP listener on addr (ADDR). An error is one line naming
// ADDR, in the form of every configuration error, with the cause:
//
//	config: ADDR: want an address this process can listen on (free, and a port it may bind): listen tcp 127.0.0.1:8080: bind: address already in use
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &VarError{Var: "ADDR", Want: "an address this process can listen on (free, and a port it may bind)", Err: err}
	}
	return ln, nil
}

// Listen is [Listen] on the stack's ADDR.
func (s *Stack) Listen() (net.Listener, error) { return Listen(s.Addr) }
