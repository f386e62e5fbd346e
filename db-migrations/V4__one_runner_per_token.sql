-- A runner token serves exactly one runner: the runner protocol resolves the caller's runner from its token
-- (protocol.RunnerIdentity), so a token shared by several runners could act as any of them. Before this
-- version one token could register many runners; each such token now keeps only the runner that registered
-- with it last, and the others lose their token: they register again with a token of their own.
update runners r set token_id = null
 where token_id is not null
   and exists (select 1 from runners newer
                where newer.token_id = r.token_id
                  and (newer.registered_at, newer.id) > (r.registered_at, r.id));

create unique index runners_one_per_token on runners (token_id) where token_id is not null;
