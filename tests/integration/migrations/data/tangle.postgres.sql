--
-- PostgreSQL database dump
--

\restrict LWfw4tKHbvrVRTF3unvXpMrZUo3U9XIAdcIQgf2qUaQdmFXukyuNko4jlid4t2d

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: balances; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.balances (
    address character varying(81) NOT NULL,
    balance bigint NOT NULL
);


--
-- Name: meta; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.meta (
    key character varying(64) NOT NULL,
    value text NOT NULL
);


--
-- Name: milestones; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.milestones (
    idx integer NOT NULL,
    hash character varying(81) NOT NULL,
    "timestamp" bigint NOT NULL
);


--
-- Name: spent_addresses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.spent_addresses (
    address character varying(81) NOT NULL
);


--
-- Name: transactions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transactions (
    hash character varying(81) NOT NULL,
    trytes text NOT NULL,
    address character varying(81) NOT NULL,
    value bigint NOT NULL,
    obsolete_tag character varying(27) NOT NULL,
    tag character varying(27) NOT NULL,
    "timestamp" bigint NOT NULL,
    current_index integer NOT NULL,
    last_index integer NOT NULL,
    bundle character varying(81) NOT NULL,
    trunk character varying(81) NOT NULL,
    branch character varying(81) NOT NULL,
    arrival bigint NOT NULL,
    milestone integer
);


--
-- Name: value_bundles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.value_bundles (
    bundle character varying(81) NOT NULL,
    moves text NOT NULL,
    milestone integer
);


--
-- Data for Name: balances; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.balances VALUES ('MBAANLBESQYLHDBHH9HEENQMIAUFDTTKVLKZZUDGBJWQPERGZJMT9LB9TXJTZJEEEPJRLAYH9ZLCRXOZF', 1000);
INSERT INTO public.balances VALUES ('VILGDLAVKBOZYDSRQGDOHZNGWVJGCHMXXFCVDTUTBLDMZHDVJZY9TYLVPLGOUPRVVUFETEJMWOUNEQLVR', 2000);
INSERT INTO public.balances VALUES ('QHZBWNIMNGEQYRIFNFKJQRADBACFATOGECGQVNVMHBNXICRXWSVWIQC9JUNFVTPFAFKOJVA9RRZCXTTNV', 3000);


--
-- Data for Name: meta; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.meta VALUES ('key-1', 'value of row 1');
INSERT INTO public.meta VALUES ('key-2', 'value of row 2');
INSERT INTO public.meta VALUES ('key-3', 'value of row 3');


--
-- Data for Name: milestones; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.milestones VALUES (1, 'RQHQSKYMACCBNQE9OCHDPRHQZZJDZETRDMBBVAWUJLGMORGIQGSYGGDJQFAMIBNKBKMUMIOLWENCTEYRO', 1);
INSERT INTO public.milestones VALUES (2, 'QGXKCNAEEHIPUPZKSLYJIBTVCWVGFJLAEGADQUUNBILK9ZEFUFJUUURHXYTTKBGIHHGYUCVZLZEZW9HHA', 2);
INSERT INTO public.milestones VALUES (3, '9ZSOEZ9BPHHIWKHYE9RYYPNFPBTTHVNLBOMMFSHOSEPLWAYGQFPHGOGKDCLZQICXJCMWSONEMNB9SLLCY', 3);


--
-- Data for Name: spent_addresses; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.spent_addresses VALUES ('JPMHB9MWTYPQH9D9WMRVXYSSTLIUATMKFEWYPEUCKSCKOTYJVGHADSVVF9MYHDZMXAOUZB9QYQQWBEIEB');
INSERT INTO public.spent_addresses VALUES ('EXCZVKWAWAMNGMXENILSKSLFVMVVKRVJR9MGUAZIOVHHBWUMHAXJBELSCANWMYX9ACZQTBZQSAELQDBWO');
INSERT INTO public.spent_addresses VALUES ('GRRUROKCQJIO9GTPUNOLERFXASJJHMKEDEURWTISAGLFFUSBTHZF9LIEEXVPLAXHQIOFYCARBRLAYLUQD');


--
-- Data for Name: transactions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.transactions VALUES ('XBVGUTWYQDEWXULMSYYMGXNEBYOXWWHHHKWIRUHLUYFENSJVUUEDVQPGGYEOJLEUOVDVZNUXFWFVKWX99', '{"row": 1, "table": "transactions"}', 'HVNQVDIFCPLLYLDUBJMGBKUGFP9SGEGXAIBWBBCDPK9ONVEOU9BQETNQOXTWUNVAGMJMNJMZTVTFTFZ9J', 1000, 'obsolete_tag-1', 'tag-1', 1, 0, 0, 'LQKOPCMHCDKGHTAZYDKPMKOEDXVQOQDL9GGDGM9EQHO9ZQALG9TMVHTSFXUBIDM9TAEJRODODQSSBBWJD', 'XYUNSMFZXYI9LQISHPJTKMRWXZBOVZQBTKCRM9HDBM9UWKGOUJBDCSULUIACGFNIHYDMMNUCBKERERTXB', 'LHTLJVF9DZXQNSZXUGKFEF9EEVGD99OJMIOCDDMGFBEOYAC9RPFPYQOFLEJUNGMFNM9LIYFALYUNHXZOG', 1, 1);
INSERT INTO public.transactions VALUES ('9YYCWBOALAHSHXB9LKHDVLTCFFEZYY9EOVIV9FNQYIGSEYUJFMNWWDZNFAZOZNIDITBFJOPNOMPDEQJLB', '{"row": 2, "table": "transactions"}', 'J9QGAFVYUKWXZTYCINGQVA9BHARGNAGIJJJCLYJPHVHEZPVP9KHDFTBLHVCNIXJHBAOXECGCILGXKNFNN', 2000, 'obsolete_tag-2', 'tag-2', 2, 1, 1, 'GBHRTPYUSQXKQXWUVGNSQC9DEHSMDGDLPCECXZK9QB9J9FJHXMSZDZASVQU9JDBWTAQTFKAKUJSJZHVMV', 'MJQWFNFBAEFWNE9AHEKVRJJPMXIPBCPUYXYBNCBVXXZPBJYZQJZN9MAWBQTLKKCRLHRIQNBQOCDHOQUGE', 'F9RJFAXWKTZHQKDFFEQUGUSCKTAVVGKIZZXBAKMHSOKUNUIHYNSRZDVKRXPVDOVUPIOTPTDGZKBULH9OO', 2, 2);
INSERT INTO public.transactions VALUES ('ASVMYQT9ROTSBHQHKQNKMNC9W9UHBHBCWYLOV9DHKBIHMZDQWK9CBXJJ9MPTJYDGZXXKJCCCWMOG9DRCU', '{"row": 3, "table": "transactions"}', 'DSHINFUZHEDGRZYJSBGXTOIXXQUNJEIOYFSCMFAOHLVURCRHAEQEMSUHEEVQBZTMDLMOFGGGTUJGVRPJA', 3000, 'obsolete_tag-3', 'tag-3', 3, 2, 2, 'AQJTDISEXQXDFOQDRJTCQQDXQRHUX9NSWYMEATDLHJMCDV9NNDXMNFXZESG9ISXOVK99Y9GLQHKJZLVJB', 'EKDHWOXRSWWLCDDWOBJDYHUMHKVZIUGKINHSUNYABJRHZBLOXQAYXVCN9AFJECDHWZJMF9TX9VX9XWXMV', 'SGGOZEZIWZNEXVMHETHKTGSLAUSASFKNKPJNB9PL9ZEOO9MGINAACKORUVXLTWSJOOVCWRMZYEPWOLCIL', 3, 3);


--
-- Data for Name: value_bundles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.value_bundles VALUES ('RSGEVCZS9XJOJAXZIUGUZDMDQFVAJMQSTLZ9HVPSIRFYKF9QKSBSBNMFRWQGNFXDKPWDILVZYWNGLITYO', 'moves of row 1', 1);
INSERT INTO public.value_bundles VALUES ('DCU9TRAXAE9TN9BMFZ9PWFBMJFMWUOYYTFVJRNJPJMJTBTILOTB9D9FAXBNLFKELVO9ZCDABGBFHTPTWP', 'moves of row 2', 2);
INSERT INTO public.value_bundles VALUES ('XJAGZIJ9FJCYMBYASMOSBXJAPEBTEEKRVMM9BAFN9EIFWBCVXMLQHDRNQLNM9SXVKENL9DREWRJSZHHTM', 'moves of row 3', 3);


--
-- Name: balances balances_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.balances
    ADD CONSTRAINT balances_pkey PRIMARY KEY (address);


--
-- Name: meta meta_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.meta
    ADD CONSTRAINT meta_pkey PRIMARY KEY (key);


--
-- Name: milestones milestones_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.milestones
    ADD CONSTRAINT milestones_pkey PRIMARY KEY (idx);


--
-- Name: spent_addresses spent_addresses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.spent_addresses
    ADD CONSTRAINT spent_addresses_pkey PRIMARY KEY (address);


--
-- Name: transactions transactions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY (hash);


--
-- Name: value_bundles value_bundles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.value_bundles
    ADD CONSTRAINT value_bundles_pkey PRIMARY KEY (bundle);


--
-- Name: ix_transactions_address; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_address ON public.transactions USING btree (address);


--
-- Name: ix_transactions_branch; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_branch ON public.transactions USING btree (branch);


--
-- Name: ix_transactions_bundle; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_bundle ON public.transactions USING btree (bundle);


--
-- Name: ix_transactions_milestone; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_milestone ON public.transactions USING btree (milestone);


--
-- Name: ix_transactions_obsolete_tag; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_obsolete_tag ON public.transactions USING btree (obsolete_tag);


--
-- Name: ix_transactions_tag; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_tag ON public.transactions USING btree (tag);


--
-- Name: ix_transactions_trunk; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_transactions_trunk ON public.transactions USING btree (trunk);


--
-- PostgreSQL database dump complete
--

\unrestrict LWfw4tKHbvrVRTF3unvXpMrZUo3U9XIAdcIQgf2qUaQdmFXukyuNko4jlid4t2d

