package main

func (c *cli) config(args []string) error   { return usagef("config: not yet") }
