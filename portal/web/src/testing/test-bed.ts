/**
 * Angular's TestBed for a component spec: the spec runs in jsdom (it opens with a `@jest-environment jsdom` docblock)
 * and imports this first. Components are compiled just in time; each spec file gets its own test environment.
 */
import '@angular/compiler';
import { TestBed } from '@angular/core/testing';
import { BrowserTestingModule, platformBrowserTesting } from '@angular/platform-browser/testing';

TestBed.initTestEnvironment(BrowserTestingModule, platformBrowserTesting());
