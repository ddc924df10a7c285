"""The public-schema index of project applications (one row per application, every hub).

The public site cannot loop over hub schemas, so each hub's ``hubs.calls`` writes a row here in the same transaction
that changes an application (``application_index_record``); an organisation's people then see all their
applications, in every hub, on one page of the base domain.
"""
