package main

func (c *cli) users(args []string) error    { return usagef("users: not yet") }
func (c *cli) sessions(args []string) error { return usagef("sessions: not yet") }
func (c *cli) config(args []string) error   { return usagef("config: not yet") }
