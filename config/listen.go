package config

import "net"

// Listen opens the listener of ADDR (TCP). An error is one line naming
// ADDR, in the form of every configuration error, with the cause:
//
//	config: ADDR: want an address this process can listen on (free, and a port it may bind): listen tcp 127.0.0.1:8080: bind: address already in use
func (s *Stack) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return nil, &VarError{Var: "ADDR", Want: "an address this process can listen on (free, and a port it may bind)", Err: err}
	}
	return ln, nil
}
