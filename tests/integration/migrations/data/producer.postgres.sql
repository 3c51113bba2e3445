--
-- PostgreSQL database dump
--

\restrict QSQTNobwOZlYsg50ZSo1vlX8tOJbv172JJaHIweDWcSuQueMcoHuH49sW5gF0WI

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
-- Name: energy_channel_outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_channel_outbox (
    id integer NOT NULL,
    channel character varying(256) NOT NULL,
    root character varying(81) NOT NULL,
    address character varying(81) NOT NULL,
    next_root character varying(81) NOT NULL,
    payload text NOT NULL,
    attached boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.energy_channel_outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.energy_channel_outbox_id_seq OWNED BY public.energy_channel_outbox.id;


--
-- Name: energy_owned_channels; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_owned_channels (
    name character varying(256) NOT NULL,
    root character varying(81) NOT NULL,
    side_key character varying(81) NOT NULL,
    seed character varying(81) NOT NULL,
    start integer NOT NULL,
    leaf_index integer NOT NULL,
    next_root character varying(81),
    published integer NOT NULL,
    closed boolean NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: energy_participant; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_participant (
    channel character varying(64) NOT NULL,
    registration_id character varying(256) NOT NULL,
    last_slice_end bigint,
    slices_published integer NOT NULL,
    registered_at timestamp with time zone,
    retired boolean NOT NULL,
    answer_root character varying(81),
    answer_side_key character varying(81),
    created_at timestamp with time zone NOT NULL
);


--
-- Name: energy_reader_positions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_reader_positions (
    registration_id character varying(256) NOT NULL,
    root character varying(81) NOT NULL,
    side_key character varying(81),
    next_root character varying(81) NOT NULL,
    messages_read integer NOT NULL,
    skipped integer NOT NULL,
    closed boolean NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: energy_registrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.energy_registrations (
    registration_id character varying(256) NOT NULL,
    item_name character varying(256) NOT NULL,
    item_type character varying(64) NOT NULL,
    root character varying(81),
    side_key character varying(81),
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: producer_slices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.producer_slices (
    start_time bigint NOT NULL,
    end_time bigint NOT NULL,
    output double precision NOT NULL,
    producer_price bigint NOT NULL,
    payment_address character varying(90) NOT NULL,
    readings integer NOT NULL
);


--
-- Name: producer_slices_start_time_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.producer_slices_start_time_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: producer_slices_start_time_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.producer_slices_start_time_seq OWNED BY public.producer_slices.start_time;


--
-- Name: producer_source_readings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.producer_source_readings (
    id integer NOT NULL,
    registration_id character varying(256) NOT NULL,
    start_time bigint NOT NULL,
    end_time bigint NOT NULL,
    output double precision NOT NULL,
    counted_in bigint
);


--
-- Name: producer_source_readings_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.producer_source_readings_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: producer_source_readings_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.producer_source_readings_id_seq OWNED BY public.producer_source_readings.id;


--
-- Name: wallet_addresses; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_addresses (
    wallet_id character varying(64) NOT NULL,
    security integer NOT NULL,
    key_index integer NOT NULL,
    address character varying(81) NOT NULL,
    purpose character varying(200) NOT NULL,
    spent boolean NOT NULL,
    created_at double precision NOT NULL,
    spent_at double precision,
    reserved boolean DEFAULT false NOT NULL,
    pooled boolean DEFAULT false NOT NULL,
    claimed_by character varying(80)
);


--
-- Name: wallet_sends; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.wallet_sends (
    id integer NOT NULL,
    wallet_id character varying(64) NOT NULL,
    security integer NOT NULL,
    bundle_hash character varying(81) NOT NULL,
    to_address character varying(81) NOT NULL,
    value bigint NOT NULL,
    inputs text NOT NULL,
    remainder_address character varying(81),
    remainder_value bigint NOT NULL,
    trytes text NOT NULL,
    state character varying(16) NOT NULL,
    touched_at double precision NOT NULL,
    owner character varying(80),
    tail_hash character varying(81),
    attempts integer NOT NULL,
    created_at double precision NOT NULL,
    attached_at double precision
);


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.wallet_sends_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.wallet_sends_id_seq OWNED BY public.wallet_sends.id;


--
-- Name: energy_channel_outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox ALTER COLUMN id SET DEFAULT nextval('public.energy_channel_outbox_id_seq'::regclass);


--
-- Name: producer_slices start_time; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.producer_slices ALTER COLUMN start_time SET DEFAULT nextval('public.producer_slices_start_time_seq'::regclass);


--
-- Name: producer_source_readings id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.producer_source_readings ALTER COLUMN id SET DEFAULT nextval('public.producer_source_readings_id_seq'::regclass);


--
-- Name: wallet_sends id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sends ALTER COLUMN id SET DEFAULT nextval('public.wallet_sends_id_seq'::regclass);


--
-- Data for Name: energy_channel_outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_channel_outbox VALUES (1, 'name-1', 'GGYUSJN9WXBBP9BH9KDHFOLMOOV9KIEBASXOMPKWXOMVNUIVT9BRKJYLPFRBDDEBPVA9DFPQKCWACZPHM', 'OKIS9RVZZYLUUKGSMADUMTBRFCBRHKHBLCWWUH9EFBNE9Z9LJZRLKOETKLDWZXIJLQPGWV9TAYVPAHKYM', 'CMZNANFWDYQBINOIYFZBYLTCAPYSBJHJKFHTPDUNBJGFQECFDWQZVPCCRLEIVPOMDCNBFBOWXABZFWQUI', '{"row": 1, "table": "energy_channel_outbox"}', false, '2026-12-07 12:01:00+00');
INSERT INTO public.energy_channel_outbox VALUES (2, 'name-2', 'PGN9BYF9NPOOVEJMPHRVBDZMVIIEAAFNQHDUQSTW99ZJODNQCLDEGEPS9EMDXJTRZTZTU9YSVOWUKMOHX', 'CLA9TJJESNPDJYHMPXHBBRXAMLYFCBNCKASVSC9ZVISHVDXCIFSJABTOFHBFVRASTZJXZMXK9RHRBGIGB', 'T9ZAIAKVHXQHMLTKTGKFFZEQT9SZKLFMFLQFCLQWSQBQJEZXMGJYWL9KEVFKNQ9WNJYMDSEYBHQXFADZ9', '{"row": 2, "table": "energy_channel_outbox"}', true, '2026-12-07 12:02:00+00');
INSERT INTO public.energy_channel_outbox VALUES (3, 'name-3', 'PCZUPBVIDVECMMNHJQJPEETEZYQSTGAEPXMJKCQTBXPFKJENDMMNNYYNCWJUJRXMKTTJQBXCNHFCUXRRE', 'ZI9GKDBWJQGFBVVTRNFUYXVCKO9WWUDFTGTOIMAWTLKZOPGWNWZFSYTTZKTPKMGEJYWUGZFSAUJBMQOLY', 'RZLXQVMZDJFDM9VWA9BDMJEDICKFAIADASIG9FLGNRIBFXIVMROXDGSXHGHLEGW9EZUFEGFUMDJGDNGTE', '{"row": 3, "table": "energy_channel_outbox"}', false, '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_owned_channels; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_owned_channels VALUES ('name-1', 'FS9EVMKQVJFGAEFF9WVARQSPYVNRBO9OW9AADKHPXOVQJK9MHFFXPJJZJEDFQSAZAZREC9ERURFMPKQZX', 'JETGDBKYUFKMMLIG9IXFGJHZFWRGHVOEDVHISRSTKVHP9GYAKB9MNDGQ9J9SFEDANMUVCVVROW9N9YKUA', 'EPSJXNJNOGNOCII9WQJNV9XVQNINGJHXPIKAGMHXWYJJ9L9ICPBQFHSUOBSMCLPURWPBPSMWXLYGGHTBM', 1, 0, 'FMRKFD9BBJEJFFSDDHDUQY9FACFFNMJXKJCS9LWVUTLBWSEQRSAMJYTBIZFSDLGNLZ9RZVLGELXXXZKTA', 1, false, '2026-12-07 12:01:00+00');
INSERT INTO public.energy_owned_channels VALUES ('name-2', 'FCWSHGCWLEEBHQM9I9CUXQCGJAWSLOJC9KZ9NB9PZ9MEIHLHJBSTMQYYSAHGCBDFRFOAHJFBGGSA9QQZH', 'EWLVRKIBCTRJEAZBFXMEHCDOUSMRPSXHZUJLEGM9WZLEQTKDTGOYNAXFBIDJDETR9UHLW9LXMNZWCJTGN', 'NYLSYNLLWSX9NUZNFEOMNKAJNPUGOMRNJIPBMTKXDXDXU9VHYZPMXLGNLFEAJKRJSKVPQEERJJJXTEIW9', 2, 1, 'MYBKXZJTPJWCGBB9VEPOY9JEMARRBUATCJGZZDEBRKATC9ECRDPWNCGYIJNKPJ9ZPTJ9AHXHKLTIGRDWO', 2, true, '2026-12-07 12:02:00+00');
INSERT INTO public.energy_owned_channels VALUES ('name-3', 'JWEHLIRQBQWRMWRXZKJGOUQDGWCOUAHXXCVLTBTPYCETRJBMCCRRGMDOAOU9RUTTIHZQYVXKEAINRTFHY', 'NQRHKHQZZHLJGQOEGYMESJVMTYTHMCUVNVVICZLLWQNRDZFTUUVPOCBHYFUHIINRVJHTGPYVDEFTSSJRK', 'ZQR9ZVLCHDQEWBGOFEYEGJVEYJWPYA9ZXVYSGFILGDRYJUCBEJNUKBRVGDVWNLGDBSHWAOJJNZOYUDYAS', 3, 2, 'EFECVIQEPETRRUUQOBNVXKLILLNFPZHAJECUDVOMDZLQGBXFM9HXRGGIPPVRLAQSGAISLXTMFR9AUGWQH', 3, false, '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_participant; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_participant VALUES ('channel-1', 'registration_id-1', 1, 1, '2026-12-07 12:01:00+00', false, 'PBAOFRCHNAIELPRTXUBUSZUBIO9PLWNDIIADMUNEZABWGBQNTMLHL99GLOVS9QIMTYQRDKMBXT9OVRKBH', 'EVQTSDIWG9HFZQT9KFGRTG9XEWNF9ZYVBGZXIPNAKVOJAZMYRWAABW9KHZCBVMECFYZMWJNDGNIATPMHK', '2026-12-07 12:01:00+00');
INSERT INTO public.energy_participant VALUES ('channel-2', 'registration_id-2', 2, 2, '2026-12-07 12:02:00+00', true, 'HXG9OBOYUABN9OR9CQUMJQMUVUZQXPAKQZBVGEAHYHMBBHFHHPOVP9RLJTMRNDWXFQJWXMHPH9NHJI9BT', 'HUOBXUQHNUYIXODFSIEAFXWOJNXFGRYTAJBQMAPRABNFXABSQKZAMQNKNXYWSZFRSBBGKJZCHPWVN9HNH', '2026-12-07 12:02:00+00');
INSERT INTO public.energy_participant VALUES ('channel-3', 'registration_id-3', 3, 3, '2026-12-07 12:03:00+00', false, 'AIUFHABXQIDHSXQQZQOYXVOAKKPYIPAKWZBPDCZJL9ZYFYQVXMJ9TICTJIJNFJGRFZUGJMPTXOIJBPVUV', 'SRMEUGZJSZMRYEGDLBHBOISCAXMROCVAVGVSIPLYMZHPYSQXJPCTMKUXLGDPJBNLTDCM9PLEAOLPPVQHL', '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_reader_positions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_reader_positions VALUES ('registration_id-1', 'DEARBHDGABAKTCUCO9BCHXHFZGCRIDBAJ9LODK9UVGFCCEENYHXCHCRPRICSLANBDBHQTBBFLAQZLYFTA', 'ULPJPEPMXUGNCCEKERNSDUCFPXCFFPYBINWFXOPWZMCSGSUSHFIFSHVHGACKKOXIUOXIFUSM9N9BQ9TCJ', 'TECHNFGG9ATMMUALUOBKNDMYCPCIKIZMZUVYUDGHRHQSYUIZFWMZKZDXAUSWWYBKWGOPAXKWGSMSF9VG9', 1, 1, false, '2026-12-07 12:01:00+00');
INSERT INTO public.energy_reader_positions VALUES ('registration_id-2', 'GFYKRG9OUEPZQYKAKACZ9ZTMEOUBZQUIZJAFBFIKFHKCOHRQBHMVBMBZWHHRWDCHZVQEJDAAIAXEJGQHN', 'LTXBOZRLLNUGBKCYDMDHAUSAMBLXDDFDCDPMEKFVXGIKP9SZPSQJE9ZQEEQBAJDZLIERJPUJANGCAXRML', 'FGZPHTYGKCCEPPOOAVVIBLIRXKNBPQLXRSORMQREDSXFJTPZRJKDMD9PKVPLNP9FLOAEZRRXBTDCATXNB', 2, 2, true, '2026-12-07 12:02:00+00');
INSERT INTO public.energy_reader_positions VALUES ('registration_id-3', 'MNOIHOEMSLAFU9KUEAPZEIBPFITNWBK9KFNHWDOUOGYETHHHWVD9SMWEXV9OGIJCZLYDVWGVFOLUCY9KK', 'BGLIJOBDPNDOUGBPZBVIU9UWGLSK9DTIXRKEEKFJKE9OAJ9JDGLUPLUREJSTCCP9ZMSTJERWIW9NHAROY', 'UK9OGPLZCMVEQTEYTJLCUIMOXR9ZK9YSURPMZFGYSLPJXGAHPZOLABTHLP9NNWP9NPIEJM9OXLGFQVKPZ', 3, 3, false, '2026-12-07 12:03:00+00');


--
-- Data for Name: energy_registrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.energy_registrations VALUES ('registration_id-1', 'item_name-1', 'item_type-1', 'VAXLQCGVMPXCCQNVGFDLUCLBL9VEXZBCEFTTCGOPPPCZENEFEIFHMEZDKQRXVJODSOGWHGFWGQSTWBWJS', 'FAVKYRWTSISFFQ9JUHHWURJJATGAZMACKMLHYBYUGOGTGPWYHKZAJB9NMRFLQRYLPIULTKSMSDELOSSFD', '2026-12-07 12:01:00+00', '2026-12-07 12:01:00+00');
INSERT INTO public.energy_registrations VALUES ('registration_id-2', 'item_name-2', 'item_type-2', 'UJQCLREXDTVZYSIXXVXSXHXHRQXHVAPRSDLFWKZSGRZHFNCEXHZTCRCVAIQLJJHDVSZDCPFP9ANIC9PPB', 'TSTHUIENGLJRKFODTFGHDYMUFXB99TYAHQLKLPRUOZYOC9ABKFAIPYPEEEGWYKYZVNPVGKZSGEOPMBRVP', '2026-12-07 12:02:00+00', '2026-12-07 12:02:00+00');
INSERT INTO public.energy_registrations VALUES ('registration_id-3', 'item_name-3', 'item_type-3', 'MLVDWZIJCHYAMJJ9PXTOMCQGOVEDRIRZSQFJQYWHDOUWKBVEEUEBBFLQRFHNQQTBISAVQCMVXLOAYULNZ', 'CXCCJVQIOWKVXMBJQJAZKVJQGHMPCGDCMDNTOP9JJDEEFCLJIJDGKXZJPAQQHENOGUVXQWXSKBOBXDIKC', '2026-12-07 12:03:00+00', '2026-12-07 12:03:00+00');


--
-- Data for Name: producer_slices; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.producer_slices VALUES (1, 1, 1.25, 1, 'XLFBEBNLFMSDACYEKDEWETCBAQYOHWFYGKEYAAKIFMRRITRGFZQISDALGYKBLOVEEUIXCSGG9UUBZVSTM', 1);
INSERT INTO public.producer_slices VALUES (2, 2, 2.5, 2, 'CHLOUCDMBBOIOCIELOVPRIIHNIPGATQOEDELVGDTYF9C9EKYEIGEFHGONLSSXVEMDLLRBGFITEICLQRRW', 2);
INSERT INTO public.producer_slices VALUES (3, 3, 3.75, 3, 'J9MNZZSCNEILJCFIXYK9PNRKOCYHHBFVQDQGGM9WMYBMMIFTKU9RFYFHPXXAMHQDOMEEHXHIEDJLKMBMS', 3);


--
-- Data for Name: producer_source_readings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.producer_source_readings VALUES (1, 'registration_id-1', 1, 1, 1.25, 1);
INSERT INTO public.producer_source_readings VALUES (2, 'registration_id-2', 2, 2, 2.5, 2);
INSERT INTO public.producer_source_readings VALUES (3, 'registration_id-3', 3, 3, 3.75, 3);


--
-- Data for Name: wallet_addresses; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.wallet_addresses VALUES ('wallet_id-1', 1, 0, 'KJMBYCL9NSVJITMLKATKLDRDNGRUWPDACCENAJBKFRRNH9EHEEOJLXLGXNDHLCOWEJXADJVU9XDHUGOCB', 'purpose-1', false, 1796640060, 1796640060, false, false, 'claimed_by-1');
INSERT INTO public.wallet_addresses VALUES ('wallet_id-2', 2, 1, 'B9BHBGYPK9PWM9CUKSCODQPNYFLCLAEWBQGNYFJI9LJMWUCPKKYCCNVNCAOAVIVNILDCTDMVCXQGIXMXL', 'purpose-2', true, 1796640120, 1796640120, true, true, 'claimed_by-2');
INSERT INTO public.wallet_addresses VALUES ('wallet_id-3', 3, 2, 'AVIGXHIOVKIFROAZXDIRQKNYQAEUJLLLPSELUZDJRFJHWN9FYGYOWWKOVNIWYPHMRFMTHWYVSFVQPBNIE', 'purpose-3', false, 1796640180, 1796640180, false, false, 'claimed_by-3');


--
-- Data for Name: wallet_sends; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.wallet_sends VALUES (1, 'wallet_id-1', 1, 'MHSSRJFJISLPTJJTXDRMLR9HTXXBPRHRRNO9VBZAEPMHHHBFXGGSNCDMADMBVOWMGUVDU9BGKIIOIMKWY', 'ZQUGKKCIQMVRHPHXYEMFMIWZPUUHVZSZFSWOWOSBWJUPAIHCCSMCKHAHVNXEDNRILDQIDQNNLMQYGATJZ', 1000, '{"row": 1, "table": "wallet_sends"}', 'DSKJEKJY9GOOGVLDWHPIEPVXENBQPJHKKBJMJJWSQMGZSNUZCREFBLMZLVBDYHLPLHYKQCDVDL9EDSNHP', 1000, '{"row": 1, "table": "wallet_sends"}', 'attached', 1796640060, 'owner-1', 'PT9IYREAAUJIWHYXZXESHQTKNRJFUSGVPFYFXHJ9VIRHDC9PN9GTET9RLJIAXQHCJRCQKBQIGCWUWLZ9W', 1, 1796640060, 1796640060);
INSERT INTO public.wallet_sends VALUES (2, 'wallet_id-2', 2, 'FXHQAWUBVNRDZRJZEL9JHSU9RFIXUWXHFHWDAWKU9BONPABSJEKMJEVIDYBRYRENEXRYYAAODMJKQUYH9', 'TKDQNNZMGEOUGQWHSNCNRFKWWLGMMPIRKGIMKRQS9MZHLTXSDEEBKMBWBF9RSFKKTJKGHPWKHCJVRHFQX', 2000, '{"row": 2, "table": "wallet_sends"}', 'KGHTHADLAG9LVNJ9SHIDTGACMZKFEB9BVNQPCLQEVTEFLTSFICIVSLPRMPYXRFQALLLOOYSLMIHLAWKOK', 2000, '{"row": 2, "table": "wallet_sends"}', 'signed', 1796640120, 'owner-2', 'VZMVCNTGXEDFJBGEJWQUZEOBIEOHHWHXWEUFUCOWRHHDOKKJFPXGSIGKIGCEJJKCPEI9XJIDAAGRTBIMQ', 2, 1796640120, 1796640120);
INSERT INTO public.wallet_sends VALUES (3, 'wallet_id-3', 3, 'TDWKLEFPNFRNNAWLCTY9SUYHXARUCUSFWKATRHAIHHOBG9XXEYJQKIXFJQIPIXALXPYQWPZVZRDZPGP99', 'LNGZKPFAPUDUAUB9FITBQN9BGSFROHWNELPYFRBMPRADQTKXCRGRIG9GSXUVRUAYGVFTYUBTQALLD9CTI', 3000, '{"row": 3, "table": "wallet_sends"}', 'BCMRINIU9XGMCRUGEYINOW9JOKXWTTHUXMBFVRRHHZRWICGPJLOJSPQVNMGTA9GMUTGH9IXEJSVBTEQUO', 3000, '{"row": 3, "table": "wallet_sends"}', 'settled', 1796640180, 'owner-3', 'ZEGCGICJZCEBYAMGOAYSWKGCXLAA9STNMKVYKQTELURZFOUHUDOWHLUBNWPPVYGGWBZHHAJGYEHKLHJPH', 3, 1796640180, 1796640180);


--
-- Name: energy_channel_outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.energy_channel_outbox_id_seq', 1, false);


--
-- Name: producer_slices_start_time_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.producer_slices_start_time_seq', 1, false);


--
-- Name: producer_source_readings_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.producer_source_readings_id_seq', 1, false);


--
-- Name: wallet_sends_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.wallet_sends_id_seq', 1, false);


--
-- Name: energy_channel_outbox energy_channel_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox
    ADD CONSTRAINT energy_channel_outbox_pkey PRIMARY KEY (id);


--
-- Name: energy_owned_channels energy_owned_channels_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_owned_channels
    ADD CONSTRAINT energy_owned_channels_pkey PRIMARY KEY (name);


--
-- Name: energy_participant energy_participant_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_participant
    ADD CONSTRAINT energy_participant_pkey PRIMARY KEY (channel);


--
-- Name: energy_reader_positions energy_reader_positions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_reader_positions
    ADD CONSTRAINT energy_reader_positions_pkey PRIMARY KEY (registration_id);


--
-- Name: energy_registrations energy_registrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_registrations
    ADD CONSTRAINT energy_registrations_pkey PRIMARY KEY (registration_id);


--
-- Name: producer_slices producer_slices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.producer_slices
    ADD CONSTRAINT producer_slices_pkey PRIMARY KEY (start_time);


--
-- Name: producer_source_readings producer_source_readings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.producer_source_readings
    ADD CONSTRAINT producer_source_readings_pkey PRIMARY KEY (id);


--
-- Name: wallet_addresses wallet_addresses_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_addresses
    ADD CONSTRAINT wallet_addresses_pkey PRIMARY KEY (wallet_id, security, key_index);


--
-- Name: wallet_sends wallet_sends_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.wallet_sends
    ADD CONSTRAINT wallet_sends_pkey PRIMARY KEY (id);


--
-- Name: ix_energy_channel_outbox_attached; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_energy_channel_outbox_attached ON public.energy_channel_outbox USING btree (attached);


--
-- Name: ix_energy_channel_outbox_channel; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_energy_channel_outbox_channel ON public.energy_channel_outbox USING btree (channel);


--
-- Name: ix_producer_source_readings_counted_in; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_producer_source_readings_counted_in ON public.producer_source_readings USING btree (counted_in);


--
-- Name: ix_producer_source_readings_end_time; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_producer_source_readings_end_time ON public.producer_source_readings USING btree (end_time);


--
-- Name: ix_producer_source_readings_registration_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_producer_source_readings_registration_id ON public.producer_source_readings USING btree (registration_id);


--
-- Name: ix_wallet_addresses_address; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_wallet_addresses_address ON public.wallet_addresses USING btree (address);


--
-- Name: ix_wallet_sends_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_wallet_sends_state ON public.wallet_sends USING btree (state);


--
-- Name: ix_wallet_sends_wallet_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_wallet_sends_wallet_id ON public.wallet_sends USING btree (wallet_id);


--
-- Name: energy_channel_outbox energy_channel_outbox_channel_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.energy_channel_outbox
    ADD CONSTRAINT energy_channel_outbox_channel_fkey FOREIGN KEY (channel) REFERENCES public.energy_owned_channels(name);


--
-- PostgreSQL database dump complete
--

\unrestrict QSQTNobwOZlYsg50ZSo1vlX8tOJbv172JJaHIweDWcSuQueMcoHuH49sW5gF0WI

