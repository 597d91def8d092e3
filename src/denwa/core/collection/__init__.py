"""Collection by Zengin bank direct debit (口座振替, SPEC §4): the pure rules.

- ``layout``: the 種別コード 91 record layout as a table of fields, record encoder/decoder;
- ``kana``: names to the banks' half-width character set (JIS X 0201);
- ``bankdays``: bank business days and the debit date;
- ``results``: the 振替結果コード table, carry-over and consecutive-failure rules;
- ``mandate``: validation of a subscriber's account details;
- ``files``: whole request files and the checks on a bank's result file;
- ``config``: the operator's collection settings (``collection.csv``).
"""
