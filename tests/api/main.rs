//! Black-box tests over HTTP against a real PostgreSQL, one database per test.
mod access;
mod aggregates;
mod batch;
mod cli;
mod coverage;
mod evaluations_crud;
mod evaluations_list;
mod evaluations_validation;
mod exports;
mod health;
mod helpers;
mod limits;
mod migrations;
mod openapi;
mod private_postgres;
mod regions;
mod workflow;
