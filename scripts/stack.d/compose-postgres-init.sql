-- docker-compose only: the postgres image creates role/db `logway` from its env;
-- this adds the test database (scripts/stack creates both natively).
CREATE DATABASE logway_test OWNER logway;
