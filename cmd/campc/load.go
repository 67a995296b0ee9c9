package main

import (
	"github.com/campc/campc/lang"
	"github.com/campc/campc/project"
)

// loadProject reads the project that paths name (see project.Load).
func loadProject(paths []string) ([]lang.Source, map[string]string, error) {
	p, err := project.Load(paths)
	if err != nil {
		return nil, nil, err
	}
	return p.Sources, p.Texts, nil
}
