package config

import (
	"os"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsRunLocally(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.BaseURL != "http://localhost:8080" || c.Production() || c.SecureCookies() || c.Workers != 20 {
		t.Fatalf("%+v", c)
	}
}

func TestBadValues(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"production without key": {"MASTERIA_ENV": "production"},
		"unknown env":            {"MASTERIA_ENV": "staging"},
		"base url":               {"MASTERIA_BASE_URL": "localhost:8080"},
		"session age":            {"MASTERIA_SESSION_MAX_AGE": "forever"},
		"workers":                {"MASTERIA_WORKERS": "-1"},
	} {
		if _, err := Load(env(m)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := Load(env(map[string]string{"MASTERIA_ENV": "production", "MASTERIA_SECRET_KEY": "k:x", "MASTERIA_BASE_URL": "https://crm.example.com/"}))
	if err != nil || !c.SecureCookies() || c.BaseURL != "https://crm.example.com" {
		t.Fatalf("%+v %v", c, err)
	}
}

// TestREADMEListsEveryVariable keeps the README's configuration table in step with Vars.
func TestREADMEListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		if !strings.Contains(string(b), "`"+v.Name+"`") {
			t.Errorf("README does not list %s", v.Name)
		}
	}
}
