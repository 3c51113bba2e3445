-- The lock controller's schema before seed 004's per-device prefixes (tools had no
-- device_prefix; devices used {MQTT_PREFIX}/device/{id}/machine-access/...). Made by that
-- version's services.lock.db.make_engine; tests upgrade a database created from it.
CREATE TABLE accounts (
	id INTEGER NOT NULL, 
	username VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(200) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (username)
);
CREATE TABLE circles (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	description TEXT NOT NULL, 
	PRIMARY KEY (id), 
	UNIQUE (name)
);
CREATE TABLE circle_members (
	circle_id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	PRIMARY KEY (circle_id, account_id), 
	FOREIGN KEY(circle_id) REFERENCES circles (id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id)
);
CREATE TABLE memberships (
	id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	starts_at DATETIME NOT NULL, 
	ends_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id)
);
CREATE INDEX ix_memberships_account_id ON memberships (account_id);
CREATE TABLE tools (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	description TEXT NOT NULL, 
	device_id VARCHAR(32) NOT NULL, 
	lock_index INTEGER NOT NULL, 
	circle_id INTEGER, 
	PRIMARY KEY (id), 
	UNIQUE (device_id, lock_index), 
	UNIQUE (name), 
	FOREIGN KEY(circle_id) REFERENCES circles (id)
);
CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL, 
	account_id INTEGER NOT NULL, 
	expires_at DATETIME NOT NULL, 
	PRIMARY KEY (token_hash), 
	FOREIGN KEY(account_id) REFERENCES accounts (id)
);
CREATE TABLE checkouts (
	tool_id INTEGER NOT NULL, 
	account_id INTEGER NOT NULL, 
	checked_out_at DATETIME NOT NULL, 
	request_id VARCHAR(64) NOT NULL, 
	PRIMARY KEY (tool_id), 
	FOREIGN KEY(tool_id) REFERENCES tools (id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id)
);
CREATE TABLE events (
	id INTEGER NOT NULL, 
	at DATETIME NOT NULL, 
	kind VARCHAR(32) NOT NULL, 
	account_id INTEGER, 
	tool_id INTEGER, 
	request_id VARCHAR(64), 
	detail TEXT NOT NULL, 
	PRIMARY KEY (id), 
	FOREIGN KEY(account_id) REFERENCES accounts (id), 
	FOREIGN KEY(tool_id) REFERENCES tools (id)
);
CREATE INDEX ix_events_at ON events (at);
