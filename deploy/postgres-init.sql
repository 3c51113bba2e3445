-- Run once by the postgres image on an empty data directory (docker-compose.postgres.yml):
-- one database per service that keeps state, all owned by the stack's user `economy`.
CREATE DATABASE devnet;
CREATE DATABASE wind;
CREATE DATABASE solar;
CREATE DATABASE robot1;
CREATE DATABASE robot2;
CREATE DATABASE lock;
